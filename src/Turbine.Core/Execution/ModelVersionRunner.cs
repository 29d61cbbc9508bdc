using System.Threading.Channels;

namespace Turbine.Core.Execution;

/// <summary>
/// Serves one model version: a bounded queue feeding one long-running worker loop per model instance. A full
/// queue refuses at once (no unbounded waiting); a request cancelled while queued is dropped before it runs.
/// With dynamic batching, compatible queued requests run together as one batch.
/// </summary>
internal sealed class ModelVersionRunner : IAsyncDisposable
{
    private readonly Channel<WorkItem> _queue;
    private readonly IModelInstance[] _instances;
    private readonly Task[] _workers;
    private readonly TimeProvider _time;
    private readonly DynamicBatchingConfig? _batching;
    private readonly long _targetRows;
    private volatile bool _closing;

    public ModelVersionRunner(ModelConfig config, long version, IModelInstance[] instances, TimeProvider time)
    {
        Config = config;
        Version = version;
        VersionText = version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _instances = instances;
        _time = time;
        _batching = config.MaxBatchSize > 0 ? config.DynamicBatching : null;
        _targetRows = _batching is { PreferredBatchSizes.Count: > 0 } ? _batching.PreferredBatchSizes.Max() : config.MaxBatchSize;
        _queue = Channel.CreateBounded<WorkItem>(new BoundedChannelOptions(config.MaxQueueSize)
        {
            SingleWriter = false,
            SingleReader = instances.Length == 1,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _workers = new Task[instances.Length];
        for (var i = 0; i < instances.Length; i++)
        {
            var instance = instances[i];
            _workers[i] = Task.Factory.StartNew(() => WorkerLoopAsync(instance), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
        }
    }

    public ModelConfig Config { get; }

    public long Version { get; }

    public string VersionText { get; }

    public ModelStatistics Statistics { get; } = new();

    public ValueTask<InferenceResult> EnqueueAsync(InferenceRequest request, ValidatedRequest validated, CancellationToken cancellationToken)
    {
        var now = _time.GetTimestamp();
        var item = new WorkItem(request, validated, now, ExpiresAt(request, now), cancellationToken);
        item.AnswerOnCancellation();
        if (!_queue.Writer.TryWrite(item))
        {
            item.Cancellation.Dispose();
            // A full queue is "unavailable, retry later" (503 + Retry-After, gRPC UNAVAILABLE), as Triton answers it.
            var message = _closing
                ? $"model '{Config.Name}' version {VersionText} is unloading"
                : $"model '{Config.Name}' version {VersionText} queue is full ({Config.MaxQueueSize} requests); retry later";
            return ValueTask.FromResult(InferenceResult.Failed(StatusCode.Unavailable, message));
        }

        return new ValueTask<InferenceResult>(item.Completion.Task);
    }

    /// <summary>Stops taking requests, lets queued ones finish, then releases the instances.</summary>
    public async ValueTask DisposeAsync()
    {
        _closing = true;
        _queue.Writer.TryComplete();
        await Task.WhenAll(_workers);
        foreach (var instance in _instances)
        {
            instance.Dispose();
        }
    }

    /// <summary>
    /// One loop per instance: take the oldest request, let compatible ones join it (dynamic batching), run the
    /// batch, answer each request. A request that cannot join is carried over to start the next batch.
    /// </summary>
    private async Task WorkerLoopAsync(IModelInstance instance)
    {
        var batch = new List<WorkItem>();
        var results = new List<Tensor>();
        WorkItem? carried = null;
        while (true)
        {
            var first = carried ?? await ReadAsync();
            carried = null;
            if (first is null)
            {
                return;
            }

            if (DropIfStale(first))
            {
                continue;
            }

            batch.Clear();
            batch.Add(first);
            if (_batching is not null)
            {
                carried = await GatherAsync(batch);
            }

            Execute(instance, batch, results);
        }
    }

    private async ValueTask<WorkItem?> ReadAsync()
    {
        while (await _queue.Reader.WaitToReadAsync())
        {
            if (_queue.Reader.TryRead(out var item))
            {
                return item;
            }
        }

        return null;
    }

    /// <summary>
    /// Adds queued requests to <paramref name="batch"/> until it reaches the target size, waiting at most the
    /// configured queue delay (counted from when the first request arrived) for more to come.
    /// </summary>
    /// <returns>A request that was read but cannot join this batch, or null.</returns>
    private async ValueTask<WorkItem?> GatherAsync(List<WorkItem> batch)
    {
        var first = batch[0];
        var rows = first.Validated.BatchSize;
        var deadline = first.EnqueuedAt + (long)(_batching!.MaxQueueDelayMicroseconds * _time.TimestampFrequency / 1_000_000.0);
        while (rows < _targetRows)
        {
            while (rows < _targetRows && _queue.Reader.TryRead(out var next))
            {
                if (DropIfStale(next))
                {
                    continue;
                }

                if (rows + next.Validated.BatchSize > Config.MaxBatchSize || !BatchAssembler.CanJoin(first.Validated, next.Validated))
                {
                    return next;
                }

                batch.Add(next);
                rows += next.Validated.BatchSize;
            }

            var remaining = deadline - _time.GetTimestamp();
            if (rows >= _targetRows || remaining <= 0 || !await WaitForMoreAsync(TimeSpan.FromSeconds((double)remaining / _time.TimestampFrequency)))
            {
                return null;
            }
        }

        return null;
    }

    /// <summary>Waits until a request is queued (true) or the time is up or the queue completes (false).</summary>
    private async ValueTask<bool> WaitForMoreAsync(TimeSpan timeout)
    {
        using var timer = new CancellationTokenSource(timeout, _time);
        try
        {
            return await _queue.Reader.WaitToReadAsync(timer.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>The queue timeout: the request's own <c>timeout</c> parameter (microseconds) when the policy allows it, else the default.</summary>
    private long ExpiresAt(InferenceRequest request, long now)
    {
        var policy = Config.QueuePolicy;
        var microseconds = policy.DefaultTimeoutMicroseconds;
        if (policy.AllowTimeoutOverride && request.Parameters?.TryGetValue("timeout", out var value) == true && value is long requested and > 0)
        {
            microseconds = requested;
        }

        return microseconds <= 0 ? long.MaxValue : now + (long)(microseconds * (_time.TimestampFrequency / 1_000_000.0));
    }

    /// <summary>Answers a request that was cancelled, or whose queue timeout passed under a REJECT policy, without running it.</summary>
    private bool DropIfStale(WorkItem item)
    {
        // From here on only the worker answers this request: its caller cannot be released early any more, so the
        // caller keeps the input buffers alive while the model reads them.
        item.Cancellation.Dispose();
        if (item.CancellationToken.IsCancellationRequested || item.Completion.Task.IsCompleted)
        {
            Complete(item, InferenceResult.Failed(StatusCode.Cancelled, "the request was cancelled before it ran"));
            return true;
        }

        if (Config.QueuePolicy.RejectOnTimeout && _time.GetTimestamp() > item.ExpiresAt)
        {
            Complete(item, InferenceResult.Failed(StatusCode.DeadlineExceeded, "Request timeout expired"));
            return true;
        }

        return false;
    }

    private void Execute(IModelInstance instance, List<WorkItem> batch, List<Tensor> results)
    {
        var started = _time.GetTimestamp();
        long rows = 0;
        foreach (var item in batch)
        {
            Statistics.Queue.Record(Nanoseconds(item.EnqueuedAt, started));
            rows += item.Validated.BatchSize;
        }

        // A batch of one runs on the request's own buffers; a larger one on one contiguous copy of all its rows.
        var inputs = batch.Count == 1 ? batch[0].Validated.Inputs : BatchAssembler.Concatenate(batch, rows);
        var assembled = _time.GetTimestamp();
        results.Clear();
        var error = RunSafely(instance, inputs, batch[0].Validated.Outputs, results);
        var ran = _time.GetTimestamp();
        if (batch.Count > 1)
        {
            DisposeAll(inputs);
        }

        var perRequest = new List<Tensor>[batch.Count];
        for (var k = 0; k < perRequest.Length; k++)
        {
            perRequest[k] = [];
        }

        if (error is null && batch.Count == 1)
        {
            perRequest[0].AddRange(results);
            results.Clear();
        }
        else if (error is null)
        {
            error = BatchAssembler.Split(results, batch, rows, perRequest);
            DisposeAll(results);
        }

        if (error is not null)
        {
            DisposeAll(results);
            foreach (var tensors in perRequest)
            {
                DisposeAll(tensors);
            }

            foreach (var item in batch)
            {
                Complete(item, InferenceResult.Failed(error));
            }

            return;
        }

        var finished = _time.GetTimestamp();
        Statistics.RecordExecution(rows, Nanoseconds(started, assembled), Nanoseconds(assembled, ran), Nanoseconds(ran, finished), _time.GetUtcNow().ToUnixTimeMilliseconds());
        for (var k = 0; k < batch.Count; k++)
        {
            var item = batch[k];
            var response = new InferenceResponse { ModelName = Config.Name, ModelVersion = VersionText, Id = item.Request.Id };
            response.Outputs.AddRange(perRequest[k]);
            response.OutputBinary.AddRange(item.Validated.OutputBinary);
            Complete(item, new InferenceResult(response, null));
        }
    }

    private static InferenceError? RunSafely(IModelInstance instance, IReadOnlyList<Tensor> inputs, IReadOnlyList<TensorConfig> outputs, List<Tensor> results)
    {
        try
        {
            return instance.Run(inputs, outputs, results);
        }
#pragma warning disable CA1031 // A backend fault fails this request only; the model stays ready (SECURITY.md F6).
        catch (Exception e)
#pragma warning restore CA1031
        {
            return InferenceError.Internal($"model execution failed: {e.GetType().Name}");
        }
    }

    private void Complete(WorkItem item, InferenceResult result)
    {
        item.Cancellation.Dispose();
        var total = Nanoseconds(item.EnqueuedAt, _time.GetTimestamp());
        (result.Error is null ? Statistics.Success : Statistics.Fail).Record(total);
        if (!item.Completion.TrySetResult(result))
        {
            result.Response?.Dispose(); // the caller gave up and was answered already
        }
    }

    private long Nanoseconds(long from, long to) => (long)_time.GetElapsedTime(from, to).TotalNanoseconds;

    private static void DisposeAll(IEnumerable<Tensor> tensors)
    {
        foreach (var tensor in tensors)
        {
            tensor.Dispose();
        }

        (tensors as List<Tensor>)?.Clear();
    }
}
