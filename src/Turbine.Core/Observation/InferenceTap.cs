using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Turbine.Core.Execution;

namespace Turbine.Core.Observation;

/// <summary>
/// Hands a sample of completed requests to the <see cref="IInferenceObserver"/>s: a request picked by
/// <see cref="ShouldSample"/> is copied (inputs, outputs, who answered, how long it took) into a bounded queue that one
/// loop of its own drains into the observers. When they fall behind, the queue fills and new observations are
/// dropped and counted: the request path never waits for an observer. Without observers, or with a sample rate of 0,
/// the request path pays one comparison.
/// </summary>
public sealed partial class InferenceTap : IAsyncDisposable
{
    private readonly IInferenceObserver[] _observers;
    private readonly double _sampleRate;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<ObservedInference> _queue;
    private readonly Task _drain;
    private long _sampled;
    private long _dropped;
    private long _observed;
    private long _failed;

    /// <summary>Creates the tap and starts its loop when there is anyone to observe.</summary>
    /// <param name="observers">Who sees the observations.</param>
    /// <param name="sampleRate">The share of requests observed, 0 to 1.</param>
    /// <param name="capacity">Observations waiting at most; more are dropped.</param>
    /// <param name="time">The clock that stamps observations.</param>
    /// <param name="logger">Where observer failures are logged.</param>
    public InferenceTap(IEnumerable<IInferenceObserver> observers, double sampleRate = 1, int capacity = 1024, TimeProvider? time = null, ILogger<InferenceTap>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(observers);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _observers = [.. observers];
        _sampleRate = _observers.Length == 0 ? 0 : Math.Clamp(sampleRate, 0, 1);
        _time = time ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _queue = Channel.CreateBounded<ObservedInference>(new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _drain = _sampleRate > 0 ? Task.Factory.StartNew(DrainAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap() : Task.CompletedTask;
    }

    /// <summary>A tap that observes nothing.</summary>
    public static InferenceTap None { get; } = new([], 0);

    /// <summary>Whether any request is observed at all.</summary>
    public bool IsEnabled => _sampleRate > 0;

    /// <summary>Observations queued for the observers.</summary>
    public long Sampled => Interlocked.Read(ref _sampled);

    /// <summary>Observations dropped because the observers were behind.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Observations the observers have seen.</summary>
    public long Observed => Interlocked.Read(ref _observed);

    /// <summary>Times an observer threw.</summary>
    public long ObserverFailures => Interlocked.Read(ref _failed);

    /// <summary>Whether to observe the request now completing (the sample rate's draw).</summary>
    public bool ShouldSample() => _sampleRate > 0 && (_sampleRate >= 1 || Random.Shared.NextDouble() < _sampleRate);

    /// <summary>
    /// Copies a completed request for the observers, or drops it (counted) when they are behind. Call only after
    /// <see cref="ShouldSample"/>; the request and the result stay the caller's.
    /// </summary>
    /// <param name="request">The request as the client sent it.</param>
    /// <param name="result">Its answer or error.</param>
    /// <param name="route">The route the client called, if any.</param>
    /// <param name="variant">The route's variant that served it, if any.</param>
    /// <param name="duration">How long the request took.</param>
    public void Offer(InferenceRequest request, InferenceResult result, string? route, string? variant, TimeSpan duration)
    {
        ArgumentNullException.ThrowIfNull(request);
        var response = result.Response;
        var model = response?.ModelName ?? request.ModelName;
        if (!WantedByAnyone(model))
        {
            return;
        }

        var observation = new ObservedInference(
            _time.GetUtcNow(), model, response?.ModelVersion ?? request.ModelVersion, route, variant, request.Id,
            Copy(request.Inputs), response is null ? [] : Copy(response.Outputs), duration, result.Error?.Code);
        if (_queue.Writer.TryWrite(observation))
        {
            Interlocked.Increment(ref _sampled);
        }
        else
        {
            Interlocked.Increment(ref _dropped);
            observation.Dispose();
        }
    }

    /// <summary>Stops taking observations, lets the observers see what is queued, and waits for them.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _drain;
    }

    private bool WantedByAnyone(string model)
    {
        foreach (var observer in _observers)
        {
            if (observer.Wants(model))
            {
                return true;
            }
        }

        return false;
    }

    private static Tensor[] Copy(List<Tensor> tensors)
    {
        var copies = new Tensor[tensors.Count];
        for (var i = 0; i < copies.Length; i++)
        {
            var tensor = tensors[i];
            copies[i] = new Tensor(tensor.Name, tensor.DataType, (long[])tensor.Shape.Clone(), TensorBuffer.CopyOf(tensor.Data.Span));
        }

        return copies;
    }

    private async Task DrainAsync()
    {
        await foreach (var observation in _queue.Reader.ReadAllAsync())
        {
            using (observation)
            {
                foreach (var observer in _observers)
                {
                    if (!observer.Wants(observation.Model))
                    {
                        continue;
                    }

                    try
                    {
                        observer.Observe(observation);
                    }
#pragma warning disable CA1031 // an observer's fault must not stop the others, or the tap
                    catch (Exception e)
#pragma warning restore CA1031
                    {
                        Interlocked.Increment(ref _failed);
                        LogObserverFailed(_logger, e, observer.GetType().Name, observation.Model);
                    }
                }
            }

            Interlocked.Increment(ref _observed);
        }
    }

    [LoggerMessage(EventId = LogEvents.ObserverFailed, Level = LogLevel.Warning, Message = "Inference observer {Observer} failed on an observation of model '{Model}'")]
    private static partial void LogObserverFailed(ILogger logger, Exception error, string observer, string model);
}
