using System.Threading.Channels;

using Turbine.Core.Execution.Scheduling;

namespace Turbine.Core.Execution;

/// <summary>
/// Serves one model version: a bounded priority queue feeding one long-running worker loop per model instance. A
/// full queue refuses at once (no unbounded waiting); a request whose caller gives up leaves the queue at once; an
/// expired one is dropped before it runs. With dynamic batching, compatible queued requests run as one batch.
/// Without batching, a request for a cheap model that finds an instance idle and nobody queued runs at once on the
/// caller's thread (direct dispatch), saving the two thread switches of the queue.
/// </summary>
internal sealed class ModelVersionRunner : IAsyncDisposable
{
    /// <summary>Models whose executions take longer than this never run inline: a long run would hold a request thread.</summary>
    private static readonly TimeSpan InlineCostLimit = TimeSpan.FromMicroseconds(200);

    private readonly RequestQueue _queue;
    private readonly InstanceSlot[] _slots;
    private readonly Task[] _workers;
    private readonly TimeProvider _time;
    private readonly DynamicBatchingConfig? _batching;
    private readonly long _targetRows;
    private readonly int _priorityLevels;
    private readonly int _defaultPriority;
    private readonly LatencyTarget? _latency;
    private readonly ResponseSequencer? _sequencer;
    private readonly bool _mayRunInline;
    private readonly long _inlineCostLimitTicks;
    private int _busyInstances;
    private int _executingRequests;
    private long _executingRows;
    private long _recentCostTicks = long.MaxValue;
    private long _lastArrival;
    private long _arrivalGapTicks;
    private int _executions;

    public ModelVersionRunner(ModelConfig config, long version, IModelInstance[] instances, TimeProvider time)
    {
        Config = config;
        Version = version;
        VersionText = version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _slots = [.. instances.Select(instance => new InstanceSlot(instance))];
        _time = time;
        var scheduling = config.DynamicBatching;
        _batching = config.MaxBatchSize > 0 ? scheduling : null;
        _targetRows = _batching is { PreferredBatchSizes.Count: > 0 } ? _batching.PreferredBatchSizes.Max() : Math.Max(1, config.MaxBatchSize);
        _priorityLevels = Math.Max(1, scheduling?.PriorityLevels ?? 0);
        _defaultPriority = scheduling is { DefaultPriorityLevel: > 0 } ? scheduling.DefaultPriorityLevel : _priorityLevels;
        if (scheduling is { MaxLatencyMilliseconds: > 0 })
        {
            _latency = new LatencyTarget(scheduling.MaxLatencyMilliseconds, time.TimestampFrequency, instances.Length, _targetRows);
        }

        // With one instance batches finish in the order they were taken anyway.
        _sequencer = scheduling is { PreserveOrdering: true } && instances.Length > 1 ? new ResponseSequencer() : null;
        _queue = new RequestQueue(config.MaxQueueSize, LevelPolicies(config, _priorityLevels), time);
        // Inline runs skip the queue, so only models whose queue has nothing to decide may use them.
        _mayRunInline = _batching is null && _priorityLevels == 1 && _latency is null && _sequencer is null;
        _inlineCostLimitTicks = (long)(InlineCostLimit.TotalSeconds * time.TimestampFrequency);
        _workers = new Task[instances.Length];
        for (var i = 0; i < instances.Length; i++)
        {
            var slot = _slots[i];
            _workers[i] = Task.Factory.StartNew(() => WorkerLoopAsync(slot), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
        }
    }

    public ModelConfig Config { get; }

    public long Version { get; }

    public string VersionText { get; }

    public ModelStatistics Statistics { get; } = new();

    /// <summary>Requests waiting in the queue now.</summary>
    public int QueuedRequests => _queue.Count;

    /// <summary>Requests inside a model execution now.</summary>
    public int ExecutingRequests => Volatile.Read(ref _executingRequests);

    public ValueTask<InferenceResult> EnqueueAsync(InferenceRequest request, ValidatedRequest validated, CancellationToken cancellationToken)
    {
        if (_mayRunInline && TryRunInline(request, validated, out var ranInline))
        {
            return ValueTask.FromResult(ranInline);
        }

        var now = _time.GetTimestamp();
        var level = LevelOf(request);
        var item = new WorkItem(request, validated, now, cancellationToken)
        {
            Runner = this,
            Level = level,
            ExpiresAt = ExpiresAt(_queue.PolicyOf(level), request, now),
            AnswerBy = _latency is null ? long.MaxValue : now + _latency.Ticks,
        };

        if (_latency is not null)
        {
            RecordArrival(now);
        }

        if (_latency is not null && !_latency.CanAdmit(_queue.Rows, validated.BatchSize, Volatile.Read(ref _busyInstances), Volatile.Read(ref _executingRows), out var predicted))
        {
            return Refuse($"model '{Config.Name}' version {VersionText} cannot answer within its latency target of {_latency.Milliseconds} ms " +
                $"(about {_time.GetElapsedTime(0, predicted).TotalMilliseconds:F0} ms of work is ahead); retry later");
        }

        // Registered before the item is visible to the workers, so a worker that takes it can always dispose it.
        item.Cancellation = cancellationToken.Register(static state => ((WorkItem)state!).Runner.OnCallerGaveUp((WorkItem)state!), item);
        var outcome = _queue.TryEnqueue(item);
        if (outcome == EnqueueOutcome.Queued)
        {
            return new ValueTask<InferenceResult>(item.Completion.Task);
        }

        item.Cancellation.Dispose();
        // A full queue is "unavailable, retry later" (503 + Retry-After, gRPC UNAVAILABLE), as Triton answers it.
        return Refuse(outcome switch
        {
            EnqueueOutcome.Closed => $"model '{Config.Name}' version {VersionText} is unloading",
            EnqueueOutcome.LevelQueueFull => $"model '{Config.Name}' version {VersionText} queue for priority level {level + 1} is full " +
                $"({_queue.PolicyOf(level).MaxQueueSize} requests); retry later",
            _ => $"model '{Config.Name}' version {VersionText} queue is full ({Config.MaxQueueSize} requests); retry later",
        });
    }

    /// <summary>Stops taking requests, lets queued ones and inline runs finish, then releases the instances.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Close();
        await Task.WhenAll(_workers);
        foreach (var slot in _slots)
        {
            await slot.TakeAsync(); // kept for good: a later inline attempt finds it taken and queues, and is refused as unloading
            slot.Dispose();
        }
    }

    /// <summary>
    /// Direct dispatch: runs the request now on the caller's thread when the model is cheap (its recent executions
    /// took under <see cref="InlineCostLimit"/>), nothing is queued (so nobody is overtaken) and an instance is idle.
    /// </summary>
    private bool TryRunInline(InferenceRequest request, ValidatedRequest validated, out InferenceResult result)
    {
        result = default;
        if (_queue.Count != 0 || Volatile.Read(ref _recentCostTicks) > _inlineCostLimitTicks)
        {
            return false;
        }

        foreach (var slot in _slots)
        {
            if (!slot.TryTake())
            {
                continue;
            }

            try
            {
                if (_queue.IsClosed)
                {
                    return false;
                }

                var item = new WorkItem(request, validated, _time.GetTimestamp(), CancellationToken.None) { Runner = this };
                slot.Batch.Clear();
                slot.Batch.Add(item);
                RunBatch(slot, slot.Batch, slot.Results);
                result = item.Completion.Task.GetAwaiter().GetResult(); // answered synchronously by the run
                return true;
            }
            finally
            {
                slot.Release();
            }
        }

        return false;
    }

    private ValueTask<InferenceResult> Refuse(string message)
    {
        Statistics.Fail.Record(0);
        return ValueTask.FromResult(InferenceResult.Failed(StatusCode.Unavailable, message));
    }

    /// <summary>The caller gave up: if the request is still queued, it leaves the queue and its caller is answered now.</summary>
    private void OnCallerGaveUp(WorkItem item)
    {
        if (_queue.TryRemove(item))
        {
            Statistics.Fail.Record(Nanoseconds(item.EnqueuedAt, _time.GetTimestamp()));
            item.Completion.TrySetResult(InferenceResult.Failed(StatusCode.Cancelled, "the request was cancelled while queued"));
        }
    }

    /// <summary>
    /// One loop per instance: wait for a request, take the instance, take the next request, let compatible ones join
    /// it (dynamic batching), run the batch, answer each request. A request that cannot join is carried over to start
    /// the next batch. The instance is taken before the request, so that while a caller runs inline the request stays
    /// queued, where priorities, timeouts and cancellation still apply to it.
    /// </summary>
    private async Task WorkerLoopAsync(InstanceSlot slot)
    {
        using var waiter = new QueueWaiter(_queue, _time);
        var batch = new List<WorkItem>();
        var results = new List<Tensor>();
        WorkItem? carried = null;
        while (true)
        {
            if (carried is null && !await _queue.WaitAsync(waiter, Timeout.InfiniteTimeSpan))
            {
                return;
            }

            await slot.TakeAsync();
            try
            {
                var first = carried;
                carried = null;
                if (first is null && !_queue.TryDequeue(out first))
                {
                    continue; // another worker took it
                }

                if (DropIfStale(first))
                {
                    continue;
                }

                batch.Clear();
                batch.Add(first);
                if (_batching is not null)
                {
                    carried = await GatherAsync(batch, waiter);
                }

                RunBatch(slot, batch, results);
            }
            finally
            {
                slot.Release();
            }
        }
    }

    private void RunBatch(InstanceSlot slot, List<WorkItem> batch, List<Tensor> results)
    {
        var rows = RowsOf(batch);
        Interlocked.Increment(ref _busyInstances);
        Interlocked.Add(ref _executingRequests, batch.Count);
        Interlocked.Add(ref _executingRows, rows);
        Execute(slot.Instance, batch, rows, results);
        Interlocked.Add(ref _executingRows, -rows);
        Interlocked.Add(ref _executingRequests, -batch.Count);
        Interlocked.Decrement(ref _busyInstances);
    }

    private static long RowsOf(List<WorkItem> batch)
    {
        long rows = 0;
        foreach (var item in batch)
        {
            rows += item.Validated.BatchSize;
        }

        return rows;
    }

    /// <summary>
    /// Adds queued requests to <paramref name="batch"/> until it reaches the target size, waiting for more to come
    /// until the batch must start: the configured queue delay, or what the latency target leaves. With a latency
    /// target the batch also stops growing where its predicted cost would answer its most urgent request late.
    /// </summary>
    /// <returns>A request that was taken but cannot join this batch, or null.</returns>
    private async ValueTask<WorkItem?> GatherAsync(List<WorkItem> batch, QueueWaiter waiter)
    {
        var first = batch[0];
        var rows = first.Validated.BatchSize;
        var answerBy = first.AnswerBy;
        var newest = first.EnqueuedAt;
        var startBy = StartBy(first);
        while (rows < _targetRows)
        {
            while (rows < _targetRows && _queue.TryDequeue(out var next))
            {
                if (DropIfStale(next))
                {
                    continue;
                }

                var joined = rows + next.Validated.BatchSize;
                if (joined > Config.MaxBatchSize || !BatchAssembler.CanJoin(first.Validated, next.Validated) ||
                    _latency?.WouldBeLate(joined, _time.GetTimestamp(), Math.Min(answerBy, next.AnswerBy)) == true)
                {
                    return next;
                }

                batch.Add(next);
                rows = joined;
                answerBy = Math.Min(answerBy, next.AnswerBy);
                newest = Math.Max(newest, next.EnqueuedAt);
            }

            var waitUntil = startBy;
            if (_latency is not null)
            {
                // Wait for the next arrival only as long as arrivals have lately been coming (two gaps after the
                // newest request in the batch): when every client is already in this batch (a closed loop), nobody
                // else comes until it is answered.
                waitUntil = Math.Min(waitUntil, newest + (2 * Volatile.Read(ref _arrivalGapTicks)));
            }

            var remaining = waitUntil - _time.GetTimestamp();

            if (rows >= _targetRows || remaining <= 0 || !await _queue.WaitAsync(waiter, _time.GetElapsedTime(0, remaining)))
            {
                return null;
            }
        }

        return null;
    }

    private long StartBy(WorkItem first)
    {
        var byDelay = first.EnqueuedAt + (long)(_batching!.MaxQueueDelayMicroseconds * _time.TimestampFrequency / 1_000_000.0);
        if (_latency?.StartBy(first.EnqueuedAt) is not { } byTarget)
        {
            return byDelay;
        }

        return _batching.MaxQueueDelayMicroseconds > 0 ? Math.Min(byDelay, byTarget) : byTarget;
    }

    /// <summary>The level a request asked for; 0, none or one out of range means the default (as Triton does).</summary>
    private int LevelOf(InferenceRequest request)
    {
        if (_priorityLevels == 1)
        {
            return 0;
        }

        var priority = request.Parameters?.TryGetValue("priority", out var value) == true && value is long asked ? asked : 0;
        return (priority < 1 || priority > _priorityLevels ? _defaultPriority : (int)priority) - 1;
    }

    private static QueuePolicyConfig[] LevelPolicies(ModelConfig config, int levels)
    {
        var policies = new QueuePolicyConfig[levels];
        for (var level = 1; level <= levels; level++)
        {
            policies[level - 1] = config.DynamicBatching?.PriorityQueuePolicies.GetValueOrDefault(level) ?? config.QueuePolicy;
        }

        return policies;
    }

    /// <summary>The queue timeout: the request's own <c>timeout</c> parameter (microseconds) when the policy allows it, else the default.</summary>
    private long ExpiresAt(QueuePolicyConfig policy, InferenceRequest request, long now)
    {
        var microseconds = policy.DefaultTimeoutMicroseconds;
        if (policy.AllowTimeoutOverride && request.Parameters?.TryGetValue("timeout", out var value) == true && value is long requested and > 0)
        {
            microseconds = requested;
        }

        return microseconds <= 0 ? long.MaxValue : now + (long)(microseconds * (_time.TimestampFrequency / 1_000_000.0));
    }

    /// <summary>
    /// Answers, without running it, a request taken from the queue that was cancelled, expired under a REJECT
    /// policy, or can no longer make the latency target.
    /// </summary>
    private bool DropIfStale(WorkItem item)
    {
        // From here on only the worker answers this request, so its caller keeps the input buffers alive while the
        // model reads them.
        item.Cancellation.Dispose();
        var now = _time.GetTimestamp();
        if (item.CancellationToken.IsCancellationRequested)
        {
            Finish(item, InferenceResult.Failed(StatusCode.Cancelled, "the request was cancelled before it ran"));
            return true;
        }

        if (_queue.PolicyOf(item.Level).RejectOnTimeout && now > item.ExpiresAt)
        {
            Finish(item, InferenceResult.Failed(StatusCode.DeadlineExceeded, "Request timeout expired"));
            return true;
        }

        if (_latency?.IsHopeless(item, now) == true)
        {
            Finish(item, InferenceResult.Failed(StatusCode.Unavailable,
                $"model '{Config.Name}' version {VersionText} could not answer within its latency target of {_latency.Milliseconds} ms; retry later"));
            return true;
        }

        return false;
    }

    private void Execute(IModelInstance instance, List<WorkItem> batch, long rows, List<Tensor> results)
    {
        var started = _time.GetTimestamp();
        foreach (var item in batch)
        {
            Statistics.Queue.Record(Nanoseconds(item.EnqueuedAt, started));
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
                Finish(item, InferenceResult.Failed(error));
            }

            return;
        }

        var finished = _time.GetTimestamp();
        _latency?.Costs.Record(rows, finished - started);
        RecordCost(finished - started);
        Statistics.RecordExecution(rows, Nanoseconds(started, assembled), Nanoseconds(assembled, ran), Nanoseconds(ran, finished), _time.GetUtcNow().ToUnixTimeMilliseconds());
        for (var k = 0; k < batch.Count; k++)
        {
            var item = batch[k];
            var response = new InferenceResponse { ModelName = Config.Name, ModelVersion = VersionText, Id = item.Request.Id };
            response.Outputs.AddRange(perRequest[k]);
            response.OutputBinary.AddRange(item.Validated.OutputBinary);
            Finish(item, new InferenceResult(response, null));
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

    /// <summary>
    /// A moving average of what executions cost lately, for the inline decision; undecided (too expensive) until a
    /// few executions were seen. Races between instances lose an update at worst, which an average forgives.
    /// </summary>
    private void RecordCost(long ticks)
    {
        const int Warmup = 4;
        var executions = Interlocked.Increment(ref _executions);
        if (executions <= Warmup)
        {
            Volatile.Write(ref _recentCostTicks, executions == Warmup ? ticks : long.MaxValue);
            return;
        }

        var recent = Volatile.Read(ref _recentCostTicks);
        Volatile.Write(ref _recentCostTicks, recent + ((ticks - recent) / 8));
    }

    /// <summary>A moving average of the time between arrivals, for the latency-aware batcher's waits.</summary>
    private void RecordArrival(long now)
    {
        var last = Interlocked.Exchange(ref _lastArrival, now);
        if (last == 0)
        {
            return;
        }

        var average = Volatile.Read(ref _arrivalGapTicks);
        Volatile.Write(ref _arrivalGapTicks, average == 0 ? now - last : average + ((now - last - average) / 8));
    }

    /// <summary>Records the request's outcome and answers it, in order when ordering is preserved.</summary>
    private void Finish(WorkItem item, InferenceResult result)
    {
        var total = Nanoseconds(item.EnqueuedAt, _time.GetTimestamp());
        (result.Error is null ? Statistics.Success : Statistics.Fail).Record(total);
        if (_sequencer is null)
        {
            Deliver(item, result);
        }
        else
        {
            _sequencer.Release(item, result, Deliver);
        }
    }

    private static void Deliver(WorkItem item, InferenceResult result)
    {
        if (!item.Completion.TrySetResult(result))
        {
            result.Response?.Dispose();
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
