namespace Turbine.Core.Execution.Scheduling;

/// <summary>The answer of <see cref="RequestQueue.TryEnqueue"/>.</summary>
internal enum EnqueueOutcome
{
    Queued,
    ModelQueueFull,
    LevelQueueFull,
    Closed,
}

/// <summary>
/// The bounded queue of one model version: one FIFO per priority level, taken highest level first. Unlike a
/// channel it can remove a request from the middle, so a caller that gives up frees its slot at once. A plain lock
/// guards it: every operation is a few pointer moves.
/// </summary>
internal sealed class RequestQueue
{
    private readonly Lock _lock = new();
    private readonly PriorityLevelQueue[] _levels;
    private readonly int _capacity;
    private readonly TimeProvider _time;
    private readonly List<QueueWaiter> _parked = [];
    private int _count;
    private long _rows;
    private long _nextSequence;
    private bool _closed;

    /// <param name="capacity">Most requests queued at once over all levels.</param>
    /// <param name="levelPolicies">The queue policy of each level, highest priority first.</param>
    /// <param name="time">The clock that decides expiry.</param>
    public RequestQueue(int capacity, IReadOnlyList<QueuePolicyConfig> levelPolicies, TimeProvider time)
    {
        _capacity = capacity;
        _time = time;
        _levels = new PriorityLevelQueue[levelPolicies.Count];
        for (var i = 0; i < _levels.Length; i++)
        {
            _levels[i] = new PriorityLevelQueue(levelPolicies[i]);
        }
    }

    /// <summary>Requests waiting now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Batch rows waiting now (a request of 4 rows counts 4).</summary>
    public long Rows => Volatile.Read(ref _rows);

    /// <summary>Whether <see cref="Close"/> was called.</summary>
    public bool IsClosed => Volatile.Read(ref _closed);

    public QueuePolicyConfig PolicyOf(int level) => _levels[level].Policy;

    public EnqueueOutcome TryEnqueue(WorkItem item)
    {
        QueueWaiter? waiter = null;
        lock (_lock)
        {
            if (_closed)
            {
                return EnqueueOutcome.Closed;
            }

            if (_count >= _capacity)
            {
                return EnqueueOutcome.ModelQueueFull;
            }

            var level = _levels[item.Level];
            if (level.IsFull)
            {
                return EnqueueOutcome.LevelQueueFull;
            }

            level.Add(item);
            _count++;
            _rows += item.Validated.BatchSize;
            waiter = UnparkOne();
        }

        waiter?.Wake(true);
        return EnqueueOutcome.Queued;
    }

    /// <summary>Takes a still-queued request out (its caller gave up). False once a worker has taken it.</summary>
    public bool TryRemove(WorkItem item)
    {
        lock (_lock)
        {
            if (item.List is not { } list)
            {
                return false;
            }

            list.Remove(item);
            _count--;
            _rows -= item.Validated.BatchSize;
            return true;
        }
    }

    /// <summary>Takes the next request: the highest priority level first, on-time requests before delayed ones.</summary>
    public bool TryDequeue(out WorkItem item)
    {
        lock (_lock)
        {
            if (_count > 0)
            {
                var now = _time.GetTimestamp();
                foreach (var level in _levels)
                {
                    if (level.TryTake(now, out item))
                    {
                        _count--;
                        _rows -= item.Validated.BatchSize;
                        item.Sequence = _nextSequence++;
                        return true;
                    }
                }
            }
        }

        item = null!;
        return false;
    }

    /// <summary>
    /// Waits until a request is queued (true), or until the timestamp <paramref name="wakeAt"/> passes or the queue
    /// closes empty (false); <see cref="long.MaxValue"/> waits without a timeout. The deadline is absolute, so a
    /// worker delayed on its way here does not wait longer. One waiter per worker; it must not wait twice at once.
    /// Blocks the calling thread: only workers, on threads of their own, wait.
    /// </summary>
    public bool Wait(QueueWaiter waiter, long wakeAt) => ParkUnlessDecided(waiter, wakeAt) ?? waiter.Block();

    /// <summary>The first half of <see cref="Wait"/>: the answer when it is known now, else null with the waiter parked.</summary>
    public bool? ParkUnlessDecided(QueueWaiter waiter, long wakeAt)
    {
        lock (_lock)
        {
            if (_count > 0)
            {
                return true;
            }

            if (_closed || (wakeAt != long.MaxValue && _time.GetTimestamp() >= wakeAt))
            {
                return false;
            }

            _parked.Add(waiter);
            waiter.Park(wakeAt);
            return null;
        }
    }

    /// <summary>Refuses new requests; queued ones are still taken, and parked workers wake to drain them.</summary>
    public void Close()
    {
        QueueWaiter[] waiters;
        bool anyQueued;
        lock (_lock)
        {
            _closed = true;
            anyQueued = _count > 0;
            waiters = [.. _parked];
            foreach (var waiter in waiters)
            {
                waiter.Unpark();
            }

            _parked.Clear();
        }

        foreach (var waiter in waiters)
        {
            waiter.Wake(anyQueued);
        }
    }

    internal void OnWaiterTimer(QueueWaiter waiter)
    {
        lock (_lock)
        {
            if (!waiter.IsParked || waiter.WakeAt == long.MaxValue)
            {
                return; // a leftover callback of a wait that already ended, or of one before a wait without timeout
            }

            if (!waiter.IsDue())
            {
                waiter.Rearm();
                return;
            }

            waiter.Unpark();
            _parked.Remove(waiter);
        }

        waiter.Wake(false);
    }

    private QueueWaiter? UnparkOne()
    {
        if (_parked.Count == 0)
        {
            return null;
        }

        var waiter = _parked[^1];
        _parked.RemoveAt(_parked.Count - 1);
        waiter.Unpark();
        return waiter;
    }
}
