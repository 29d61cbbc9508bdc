using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Turbine.Core.Execution.Scheduling;
using Turbine.Core.Observation;

namespace Turbine.Core.Execution;

/// <summary>
/// Serves one model version: a bounded priority queue feeding one worker loop per model instance, each on a thread
/// of its own (a model run is synchronous and may take long; on the thread pool it would hold a thread that serves
/// requests). A
/// full queue refuses at once (no unbounded waiting); a request whose caller gives up leaves the queue at once; an
/// expired one is dropped before it runs. With dynamic batching, compatible queued requests run as one batch.
/// Without batching, a request for a cheap model that finds an instance idle and nobody queued runs at once on the
/// caller's thread (direct dispatch), saving the two thread switches of the queue.
/// </summary>
internal sealed partial class ModelVersionRunner : IVersionRunner
{
    /// <summary>Models whose executions take longer than this never run inline: a long run would hold a request thread.</summary>
    private static readonly TimeSpan InlineCostLimit = TimeSpan.FromMicroseconds(200);

    private readonly RequestQueue _queue;
    private readonly InstanceSlot[] _slots;

    /// <summary>Siblings of the instances (<see cref="IModelInstance.CreateSibling"/>) that only inline runs use; empty unless the model may run inline.</summary>
    private readonly InstanceSlot[] _inlineSlots;
    private readonly Task[] _workers;
    private readonly ILogger _logger;
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

    public ModelVersionRunner(ModelConfig config, long version, IModelInstance[] instances, TimeProvider time, string loadIdentity = "", ILogger? logger = null)
    {
        _logger = logger ?? NullLogger.Instance;
        Config = config;
        Version = version;
        LoadIdentity = loadIdentity;
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
        // By default background work gets every instance but one; with one instance, one row at a time, so that an online
        // request that arrives while it runs waits for one row's run, not a whole batch's.
        var backgroundRows = config.BackgroundLane.MaxRowsInFlight > 0 ? config.BackgroundLane.MaxRowsInFlight
            : instances.Length > 1 ? (instances.Length - 1) * _targetRows : 1;
        _queue = new RequestQueue(config.MaxQueueSize, LevelPolicies(config, _priorityLevels), time, config.BackgroundLane.MaxQueueSize, backgroundRows);
        // Inline runs skip the queue, so only models whose queue has nothing to decide may use them.
        _mayRunInline = _batching is null && _priorityLevels == 1 && _latency is null && _sequencer is null;
        _inlineCostLimitTicks = (long)(InlineCostLimit.TotalSeconds * time.TimestampFrequency);
        _inlineSlots = _mayRunInline ? InlineSiblings(instances) : [];
        _workers = new Task[instances.Length];
        for (var i = 0; i < instances.Length; i++)
        {
            var slot = _slots[i];
            _workers[i] = InstanceWorker.Start(() => WorkerLoop(slot), $"turbine {config.Name}/{VersionText}#{i}");
        }
    }

    public ModelConfig Config { get; }

    public long Version { get; }

    public string VersionText { get; }

    public string LoadIdentity { get; }

    public ModelStatistics Statistics { get; } = new();

    public bool IsRetired => _queue.IsClosed;

    public int QueuedRequests => _queue.Count + _queue.Held + _queue.BackgroundCount;

    public int ExecutingRequests => Volatile.Read(ref _executingRequests);

    /// <summary>One warm-up request per instance at a time, so that every instance runs each sample.</summary>
    public int WarmupConcurrency => _slots.Length;

    public ValueTask<InferenceResult> EnqueueAsync(InferenceRequest request, ValidatedRequest validated, CancellationToken cancellationToken)
    {
        var lane = LaneOf(request);
        if (_mayRunInline && lane == RequestLane.Online && TryRunInline(request, validated, out var ranInline))
        {
            return ValueTask.FromResult(ranInline);
        }

        var now = _time.GetTimestamp();
        var level = LevelOf(request);
        var item = new WorkItem(request, validated, now, cancellationToken)
        {
            Runner = this,
            Level = level,
            Lane = lane,
            Trace = TraceOf(),
            ExpiresAt = ExpiresAt(_queue.PolicyOf(level), request, now),
            AnswerBy = _latency is null || lane == RequestLane.Background ? long.MaxValue : now + _latency.Ticks,
        };

        // Background work has no latency target: it waits for whatever online traffic leaves.
        if (_latency is not null && lane == RequestLane.Online)
        {
            RecordArrival(now);
            if (!_latency.CanAdmit(_queue.Rows, validated.BatchSize, Volatile.Read(ref _busyInstances), Volatile.Read(ref _executingRows), out var predicted))
            {
                return Refuse($"model '{Config.Name}' version {VersionText} cannot answer within its latency target of {_latency.Milliseconds} ms " +
                    $"(about {_time.GetElapsedTime(0, predicted).TotalMilliseconds:F0} ms of work is ahead); retry later");
            }
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
            EnqueueOutcome.BackgroundQueueFull => $"model '{Config.Name}' version {VersionText} background queue is full ({Config.BackgroundLane.MaxQueueSize} requests); retry later",
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
        foreach (var slot in _inlineSlots.Concat(_slots))
        {
            await slot.TakeAsync(); // kept for good: a later inline attempt finds it taken and queues, and is refused as unloading
        }

        foreach (var slot in _inlineSlots.Concat(_slots))
        {
            slot.Dispose(); // siblings first: they share their instance's session
        }
    }

    /// <summary>
    /// Siblings that let a cheap model's callers run side by side on their own threads instead of queueing behind one
    /// instance's worker (with 64 callers on one instance a request waited 400-700 µs in the queue for 15 µs of
    /// compute), up to <see cref="InlineRunBudget"/> runs in all.
    /// </summary>
    private static InstanceSlot[] InlineSiblings(IModelInstance[] instances)
    {
        var siblings = new List<InstanceSlot>();
        var budget = InlineRunBudget();
        for (var i = 0; instances.Length > 0 && instances.Length + siblings.Count < budget; i++)
        {
            if (instances[i % instances.Length].CreateSibling() is not { } sibling)
            {
                break; // the backend's runs cannot overlap
            }

            siblings.Add(new InstanceSlot(sibling));
        }

        return [.. siblings];
    }

    /// <summary>
    /// How many runs may hold request threads at once: every core but one, which stays free for the network stack and
    /// the thread pool's I/O. With a run on every core, the 2-core compare benchmark lost 15-25% of its throughput
    /// (docs/BENCHMARKS.md). The runtime setting <c>Turbine.MaxInlineRuns</c> (runtimeconfig <c>configProperties</c>)
    /// overrides it.
    /// </summary>
    internal static int InlineRunBudget() =>
        AppContext.GetData("Turbine.MaxInlineRuns") is { } set && int.TryParse(set.ToString(), System.Globalization.CultureInfo.InvariantCulture, out var runs) && runs > 0
            ? runs
            : Math.Max(1, Environment.ProcessorCount - 1);

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

        var slot = TakeIdle(_slots) ?? TakeIdle(_inlineSlots);
        if (slot is null)
        {
            return false;
        }

        try
        {
            if (_queue.IsClosed)
            {
                return false;
            }

            var item = new WorkItem(request, validated, _time.GetTimestamp(), CancellationToken.None)
            {
                Runner = this,
                Trace = TraceOf(),
            };
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

    /// <summary>Takes the first idle slot of <paramref name="slots"/>, or none.</summary>
    private static InstanceSlot? TakeIdle(InstanceSlot[] slots)
    {
        foreach (var slot in slots)
        {
            if (slot.TryTake())
            {
                return slot;
            }
        }

        return null;
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

    /// <summary>The level a request asked for; 0, none or one out of range means the default (as Triton does).</summary>
    /// <summary>The current span and the time, when a listener records Turbine's spans; none otherwise (one check on the hot path).</summary>
    private QueuedTrace TraceOf() =>
        TurbineTracing.IsEnabled && System.Diagnostics.Activity.Current is { } current ? new(current.Context, _time.GetUtcNow()) : default;

    /// <summary>The request's lane: as its caller set it, or as the <c>turbine_lane</c> parameter asks.</summary>
    private static RequestLane LaneOf(InferenceRequest request) =>
        request.Lane == RequestLane.Background ||
        (request.Parameters?.TryGetValue("turbine_lane", out var value) == true && value is string asked && string.Equals(asked, "background", StringComparison.OrdinalIgnoreCase))
            ? RequestLane.Background
            : RequestLane.Online;

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

    [LoggerMessage(EventId = LogEvents.ModelExecutionFailed, Level = LogLevel.Error,
        Message = "Model '{Model}' version {Version} failed to execute request '{RequestId}' (batch of {Requests}): {Detail}")]
    private static partial void LogModelFailed(ILogger logger, string model, string version, string requestId, int requests, string detail);

    [LoggerMessage(EventId = LogEvents.WorkerRoundFailed, Level = LogLevel.Error,
        Message = "Model '{Model}' version {Version}: a worker round failed outside the model call; request '{RequestId}' was answered with an error")]
    private static partial void LogRoundFailed(ILogger logger, Exception fault, string model, string version, string requestId);
}
