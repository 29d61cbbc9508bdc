using Grpc.Core;
using Turbine.Client;
using Turbine.Core.Execution;

namespace Turbine.Remote;

/// <summary>
/// Serves one version of a remote model: each validated request is sent to the remote server (at most
/// <see cref="RemoteTarget.MaxConcurrency"/> at once; the rest wait here, counted as queued) under the target's
/// deadline and the caller's cancellation, and its answer comes back under the local name and version. A breaker
/// and a periodic readiness check make a remote that went away answer 503 at once instead of after each timeout.
/// </summary>
public sealed class RemoteRunner : VersionRunnerBase
{
    private readonly RemoteTarget _target;
    private readonly ITurbineClient _client;
    private readonly ITurbineClient? _hedge;
    private readonly RecentLatencies _roundTrips;
    private long _hedges;
    private long _hedgeWins;
    private readonly RemoteBreaker _breaker;
    private readonly SemaphoreSlim _slots;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _health;

    internal RemoteRunner(RemoteTarget target, VersionLoadContext context, ITurbineClient client, ITurbineClient? hedge)
        : base(context)
    {
        _target = target;
        _client = client;
        _hedge = hedge;
        _roundTrips = new RecentLatencies(target.HedgeAfterPercentile);
        _breaker = new RemoteBreaker(target.BreakerFailures, TimeSpan.FromMilliseconds(target.BreakerOpenMs), context.Time);
        _slots = new SemaphoreSlim(target.MaxConcurrency, target.MaxConcurrency);
        _health = WatchHealthAsync(_stopping.Token);
    }

    /// <summary>Whether the breaker refuses requests now.</summary>
    public bool IsBroken => _breaker.IsOpen;

    /// <summary>Hedged requests sent so far (the first target was slower than the percentile).</summary>
    public long Hedges => Interlocked.Read(ref _hedges);

    /// <summary>Hedged requests the hedge won; the first target's call was cancelled. The others' hedge was cancelled.</summary>
    public long HedgeWins => Interlocked.Read(ref _hedgeWins);

    protected override async ValueTask<InferenceResult> RunAsync(InferenceRequest request, ValidatedRequest validated, CancellationToken cancellationToken)
    {
        if (!_breaker.TryEnter())
        {
            Statistics.Fail.Record(0);
            return InferenceResult.Failed(StatusCode.Unavailable, $"the remote model '{_target.Model}' at {_target.Url} is failing; its breaker is open");
        }

        var started = Context.Time.GetTimestamp();
        StartWaiting();
        var entered = false;
        try
        {
            entered = await _slots.WaitAsync(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return InferenceResult.Failed(StatusCode.Cancelled, "the request was cancelled while waiting for the remote");
        }
        finally
        {
            StopWaiting();
            if (!entered)
            {
                _breaker.Abandoned(); // gave up before trying: neither a success nor the remote's failure
            }
        }

        StartExecuting();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        deadline.CancelAfter(_target.TimeoutMs);
        try
        {
            var forwarded = Forwarded(request);
            var answer = await SendAsync(forwarded, deadline.Token).ConfigureAwait(false);
            _breaker.Succeeded();
            _roundTrips.Add(Context.Time.GetElapsedTime(started));
            var response = new InferenceResponse { ModelName = Config.Name, ModelVersion = VersionText, Id = request.Id };
            response.Outputs.AddRange(answer.Outputs);
            var nanoseconds = (long)Context.Time.GetElapsedTime(started).TotalNanoseconds;
            Statistics.Success.Record(nanoseconds);
            Statistics.RecordExecution(BatchRows(request), 0, nanoseconds, 0, Context.Time.GetUtcNow().ToUnixTimeMilliseconds());
            return new InferenceResult(response, null);
        }
        catch (Exception e) when (e is TurbineClientException or RpcException or HttpRequestException or OperationCanceledException)
        {
            var error = Error(e, cancellationToken);
            if (error.Code is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal)
            {
                _breaker.Failed(); // the remote's fault, not the request's
            }

            Statistics.Fail.Record((long)Context.Time.GetElapsedTime(started).TotalNanoseconds);
            return InferenceResult.Failed(error);
        }
        finally
        {
            StopExecuting();
            _slots.Release();
        }
    }

    protected override async ValueTask ReleaseAsync()
    {
        // Drained: the requests in flight finished (or met their deadline) before the connection goes.
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _health.ConfigureAwait(false);
        _stopping.Dispose();
        _slots.Dispose();
        _client.Dispose();
        _hedge?.Dispose();
    }

    /// <summary>
    /// Sends to the first target; with a hedge target, also sends there once the first has taken longer than the recent
    /// round trips' percentile (speculative execution, <see cref="Hedging"/>), takes whichever answers first and cancels
    /// the other.
    /// </summary>
    private async Task<InferenceResponse> SendAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        if (_hedge is null)
        {
            return await _client.InferAsync(request, cancellationToken).ConfigureAwait(false);
        }

        var outcome = await Hedging.RunAsync(
            token => _client.InferAsync(request, token), token => _hedge.InferAsync(request, token), _roundTrips.HedgeDelay(TimeSpan.FromMilliseconds(_target.HedgeMinMs)),
            Context.Time, static _ => true, static response => response.Dispose(), cancellationToken).ConfigureAwait(false);
        if (outcome.Hedged)
        {
            Interlocked.Increment(ref _hedges);
        }

        if (outcome.HedgeWon)
        {
            Interlocked.Increment(ref _hedgeWins);
        }

        return outcome.Result;
    }

    /// <summary>The request as the remote knows it: its model name and version, the same inputs, outputs and parameters.</summary>
    private InferenceRequest Forwarded(InferenceRequest request)
    {
        var forwarded = new InferenceRequest { ModelName = _target.Model, ModelVersion = _target.Version, Id = request.Id, Parameters = request.Parameters };
        forwarded.Inputs.AddRange(request.Inputs);
        forwarded.Outputs.AddRange(request.Outputs);
        return forwarded;
    }

    private static long BatchRows(InferenceRequest request) =>
        request.Inputs.Count > 0 && request.Inputs[0].Shape.Length > 0 ? Math.Max(1, request.Inputs[0].Shape[0]) : 1;

    private InferenceError Error(Exception e, CancellationToken caller)
    {
        var where = $"the remote model '{_target.Model}' at {_target.Url}";
        return e switch
        {
            OperationCanceledException when caller.IsCancellationRequested => new(StatusCode.Cancelled, "the request was cancelled"),
            OperationCanceledException => new(StatusCode.DeadlineExceeded, $"{where} did not answer within {_target.TimeoutMs} ms"),
            TurbineClientException client => new(client.Code, $"{where}: {client.Message}"),
            RpcException { StatusCode: Grpc.Core.StatusCode.DeadlineExceeded } => new(StatusCode.DeadlineExceeded, $"{where} did not answer within {_target.TimeoutMs} ms"),
            _ => new(StatusCode.Unavailable, $"{where} cannot be reached: {e.Message}"),
        };
    }

    /// <summary>Asks the remote whether the model is ready, every interval: a no trips the breaker, a yes closes it.</summary>
    private async Task WatchHealthAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(_target.HealthIntervalMs), Context.Time);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                bool ready;
                try
                {
                    using var check = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                    check.CancelAfter(TimeSpan.FromSeconds(2));
                    ready = await _client.IsModelReadyAsync(_target.Model, _target.Version, check.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is TurbineClientException or RpcException or HttpRequestException or OperationCanceledException && !stopping.IsCancellationRequested)
                {
                    ready = false;
                }

                if (ready)
                {
                    _breaker.Succeeded();
                }
                else
                {
                    _breaker.Trip();
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }
}
