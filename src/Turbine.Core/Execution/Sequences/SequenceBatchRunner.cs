using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Turbine.Core.Execution.Sequences;

/// <summary>
/// Serves one version of a stateful model (Triton's sequence batcher). Every request names its sequence (a
/// correlation id) and whether it starts or ends it; the requests of one sequence run one at a time, in the order
/// they arrived, with the control inputs (START, END, READY, CORRID) and the implicit state filled in here.
/// <para>
/// A new sequence takes a slot: with <c>direct</c>, one row of one instance for its whole life (slots are spread
/// over the instances first); with <c>oldest</c>, one of the candidate places, and any free instance runs the
/// sequences whose next requests have waited longest. With every slot taken it waits in the backlog, as in Triton,
/// up to <c>max_queue_size</c> sequences (and as many requests, apart from the placed sequences' <c>max_queue_size</c>). A sequence ends with its END request, or after
/// <c>max_sequence_idle_microseconds</c> without one, which frees its slot for the backlog.
/// </para>
/// <para>
/// A queued request always runs, even when its caller has given up, so that its sequence's state stays whole. All the
/// bookkeeping is under one lock: sequences are few and each request is one row, so the lock is never the bottleneck.
/// </para>
/// </summary>
internal sealed partial class SequenceBatchRunner : IVersionRunner
{
    private readonly object _gate = new();
    private readonly Dictionary<CorrelationId, LiveSequence> _live = [];
    private readonly Queue<LiveSequence> _backlog = new();
    private readonly LiveSequence?[][] _slots;
    private readonly IModelInstance[] _instances;
    private readonly Task[] _workers;
    private readonly SequenceBatchingConfig _sequences;
    private readonly TimeProvider _time;
    private readonly ITimer _wakeTimer;
    private readonly ILogger _logger;
    private readonly long _idleTicks;
    private readonly long _delayTicks;
    private readonly int _maxRows;
    private long _wakeAt = long.MaxValue;
    private long _nextSweep;
    private int _candidates;
    private int _queued;
    private int _backlogRequests;
    private int _executing;
    private bool _closed;

    public SequenceBatchRunner(ModelConfig config, long version, IModelInstance[] instances, TimeProvider time, string loadIdentity = "", ILogger? logger = null)
    {
        Config = config;
        Version = version;
        VersionText = version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        LoadIdentity = loadIdentity;
        _sequences = config.SequenceBatching ?? throw new ArgumentException("the model has no sequence_batching", nameof(config));
        _instances = instances;
        _time = time;
        _logger = logger ?? NullLogger.Instance;
        _idleTicks = Ticks(_sequences.MaxSequenceIdleMicroseconds);
        _delayTicks = Ticks(_sequences.MaxQueueDelayMicroseconds);
        _maxRows = Math.Max(1, config.MaxBatchSize);
        _slots = [.. instances.Select(_ => new LiveSequence?[_sequences.Strategy == SequenceStrategy.Direct ? _maxRows : 0])];
        _wakeTimer = time.CreateTimer(static state => ((SequenceBatchRunner)state!).OnWakeTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _workers = new Task[instances.Length];
        for (var i = 0; i < instances.Length; i++)
        {
            var instance = i;
            _workers[i] = Scheduling.InstanceWorker.Start(() => WorkerLoop(instance), $"turbine {config.Name}/{VersionText}#{i} (sequences)");
        }
    }

    public ModelConfig Config { get; }

    public long Version { get; }

    public string VersionText { get; }

    public string LoadIdentity { get; }

    public ModelStatistics Statistics { get; } = new();

    public bool IsRetired => Volatile.Read(ref _closed);

    public int QueuedRequests => Volatile.Read(ref _queued);

    public int ExecutingRequests => Volatile.Read(ref _executing);

    public int WarmupConcurrency => _instances.Length;

    public ValueTask<InferenceResult> EnqueueAsync(InferenceRequest request, ValidatedRequest validated, CancellationToken cancellationToken)
    {
        var error = SequenceStep.TryRead(request, Config, out var step);
        if (error is null && Config.MaxBatchSize > 0 && validated.BatchSize != 1)
        {
            error = InferenceError.Invalid($"inference request to model '{Config.Name}' must specify batch-size 1 due to requirements of sequence batcher");
        }

        if (error is not null)
        {
            Statistics.Fail.Record(0);
            return ValueTask.FromResult(InferenceResult.Failed(error));
        }

        var now = _time.GetTimestamp();
        var work = new SequenceWork(request, validated, step, now);
        lock (_gate)
        {
            error = Admit(work, now);
            if (error is null)
            {
                Monitor.PulseAll(_gate);
            }
        }

        if (error is not null)
        {
            Statistics.Fail.Record(0);
            return ValueTask.FromResult(InferenceResult.Failed(error));
        }

        return new ValueTask<InferenceResult>(work.Completion.Task);
    }

    /// <summary>Stops taking requests, lets every placed sequence's queued requests run, then releases the instances.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _closed = true;
            Monitor.PulseAll(_gate);
        }

        await Task.WhenAll(_workers);
        List<SequenceWork> stranded;
        lock (_gate)
        {
            stranded = [.. _live.Values.SelectMany(sequence => sequence.Pending)]; // backlogged sequences never got a slot
            _live.Clear();
            _backlog.Clear();
        }

        foreach (var work in stranded)
        {
            Answer(work, InferenceResult.Failed(StatusCode.Unavailable, $"model '{Config.Name}' version {VersionText} is unloading"), success: false);
        }

        await _wakeTimer.DisposeAsync();
        foreach (var instance in _instances)
        {
            instance.Dispose();
        }
    }

    /// <summary>Puts a request on its sequence, starting the sequence when the request starts one. Under the lock.</summary>
    private InferenceError? Admit(SequenceWork work, long now)
    {
        if (_closed)
        {
            return new InferenceError(StatusCode.Unavailable, $"model '{Config.Name}' version {VersionText} is unloading");
        }

        var step = work.Step;
        if (_live.TryGetValue(step.Id, out var sequence) && HasExpired(sequence, now))
        {
            Release(sequence); // it went idle for too long and was not swept yet: it is over
            sequence = null;
        }

        if ((sequence is null || sequence.EndQueued) && !step.Start)
        {
            return InferenceError.Invalid(
                $"inference request for sequence {step.Id.ToClientText()} to model '{Config.Name}' must specify the START flag on the first request of the sequence");
        }

        if (sequence is null && !HasFreePlace() && _backlog.Count >= Config.MaxQueueSize)
        {
            return new InferenceError(StatusCode.Unavailable,
                $"model '{Config.Name}' version {VersionText} has too many live sequences ({_live.Count - _backlog.Count} hold every slot and {_backlog.Count} wait for one); retry later");
        }

        // Requests of sequences with a place and of those in the backlog are bounded apart, so that a full backlog
        // never keeps the placed sequences from ending and making room.
        var placed = sequence?.IsPlaced ?? HasFreePlace();
        if ((placed ? _queued - _backlogRequests : _backlogRequests) >= Config.MaxQueueSize)
        {
            return new InferenceError(StatusCode.Unavailable, $"model '{Config.Name}' version {VersionText} queue is full ({Config.MaxQueueSize} requests); retry later");
        }

        if (sequence is null)
        {
            sequence = new LiveSequence(step.Id) { IdleSince = now };
            _live.Add(step.Id, sequence);
            if (!TryPlace(sequence))
            {
                _backlog.Enqueue(sequence);
            }
        }

        sequence.Pending.Enqueue(work);
        sequence.EndQueued = step.End;
        _queued++;
        _backlogRequests += sequence.IsPlaced ? 0 : 1;
        return null;
    }

    private bool HasFreePlace() =>
        _sequences.Strategy == SequenceStrategy.Oldest ? _candidates < _sequences.MaxCandidateSequences : _slots.Any(slots => Array.IndexOf(slots, null) >= 0);

    /// <summary>Gives a new sequence a slot (direct: the first free row, spreading over instances) or a candidate place (oldest).</summary>
    private bool TryPlace(LiveSequence sequence)
    {
        if (_sequences.Strategy == SequenceStrategy.Oldest)
        {
            if (_candidates >= _sequences.MaxCandidateSequences)
            {
                return false;
            }

            _candidates++;
            sequence.IsPlaced = true;
            return true;
        }

        for (var slot = 0; slot < _maxRows; slot++)
        {
            for (var instance = 0; instance < _slots.Length; instance++)
            {
                if (_slots[instance][slot] is null)
                {
                    _slots[instance][slot] = sequence;
                    (sequence.Instance, sequence.Slot, sequence.IsPlaced) = (instance, slot, true);
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Forgets a sequence that ended and hands its slot to the oldest sequence in the backlog. Under the lock.</summary>
    private void Release(LiveSequence sequence)
    {
        _live.Remove(sequence.Id);
        if (!sequence.IsPlaced)
        {
            return;
        }

        sequence.IsPlaced = false;
        if (_sequences.Strategy == SequenceStrategy.Oldest)
        {
            _candidates--;
        }
        else
        {
            _slots[sequence.Instance][sequence.Slot] = null;
        }

        while (_backlog.TryPeek(out var waiting) && TryPlace(waiting))
        {
            _backlog.Dequeue();
            _backlogRequests -= waiting.Pending.Count;
        }

        Monitor.PulseAll(_gate);
    }

    /// <summary>Ends the placed sequences that have been idle longer than the limit. Under the lock; at most a few times per idle period.</summary>
    private void SweepIfDue(long now)
    {
        if (now < _nextSweep)
        {
            return;
        }

        _nextSweep = now + Math.Max(_idleTicks / 4, 1);
        List<LiveSequence>? expired = null;
        foreach (var sequence in _live.Values)
        {
            if (HasExpired(sequence, now))
            {
                (expired ??= []).Add(sequence);
            }
        }

        foreach (var sequence in expired ?? [])
        {
            if (_logger.IsEnabled(LogLevel.Information))
            {
                var shown = sequence.Id.ToClientText();
                LogSequenceExpired(_logger, Config.Name, VersionText, shown);
            }

            Release(sequence);
        }
    }

    /// <summary>Whether a placed sequence has had nothing queued or running for longer than the idle limit.</summary>
    private bool HasExpired(LiveSequence sequence, long now) => sequence.IsPlaced && sequence.IsIdle && now - sequence.IdleSince > _idleTicks;

    private long Ticks(long microseconds) => (long)(microseconds * (_time.TimestampFrequency / 1_000_000.0));

    [LoggerMessage(EventId = LogEvents.SequenceExpired, Level = LogLevel.Information,
        Message = "Model '{Model}' version {Version}: sequence {Sequence} was idle past max_sequence_idle_microseconds and was ended")]
    private static partial void LogSequenceExpired(ILogger logger, string model, string version, string sequence);

    [LoggerMessage(EventId = LogEvents.ModelExecutionFailed, Level = LogLevel.Error,
        Message = "Model '{Model}' version {Version} failed to execute a batch of {Requests} sequence requests: {Detail}")]
    private static partial void LogModelFailed(ILogger logger, string model, string version, int requests, string detail);
}
