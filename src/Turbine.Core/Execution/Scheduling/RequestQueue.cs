namespace Turbine.Core.Execution.Scheduling;

/// <summary>The answer of <see cref="RequestQueue.TryEnqueue"/>.</summary>
internal enum EnqueueOutcome
{
    Queued,
    ModelQueueFull,
    LevelQueueFull,
    BackgroundQueueFull,
    Closed,
}

/// <summary>
/// The bounded queue of one model version: one FIFO per priority level, taken highest level first, and below them a
/// background lane, taken only when no online request waits and only while the background rows running stay under
/// their cap. Each lane has its own bound, and online admission counts online work alone, so a background backlog
/// never gets an online request refused. Unlike a channel it can remove a request from the middle, so a caller that
/// gives up frees its slot at once. A plain lock guards it: every operation is a few pointer moves.
/// </summary>
internal sealed class RequestQueue
{
    private readonly Lock _lock = new();
    private readonly PriorityLevelQueue[] _levels;
    private readonly int _capacity;
    private readonly TimeProvider _time;
    private readonly List<QueueWaiter> _parked = [];
    private readonly WorkItemList _background = new();
    private readonly int _backgroundCapacity;
    private readonly long _backgroundRowCap;
    private readonly int[] _heldByLevel;
    private long _backgroundRowsRunning;
    private int _held;
    private int _count;
    private long _rows;
    private long _nextSequence;
    private bool _closed;

    /// <param name="capacity">Most online requests queued at once over all levels.</param>
    /// <param name="levelPolicies">The queue policy of each level, highest priority first.</param>
    /// <param name="time">The clock that decides expiry.</param>
    /// <param name="backgroundCapacity">Most background requests queued at once.</param>
    /// <param name="backgroundRowCap">Most background rows running at once (a request bigger than the cap runs alone).</param>
    public RequestQueue(int capacity, IReadOnlyList<QueuePolicyConfig> levelPolicies, TimeProvider time, int backgroundCapacity = 1024, long backgroundRowCap = long.MaxValue)
    {
        _capacity = capacity;
        _backgroundCapacity = backgroundCapacity;
        _backgroundRowCap = backgroundRowCap;
        _time = time;
        _levels = new PriorityLevelQueue[levelPolicies.Count];
        _heldByLevel = new int[levelPolicies.Count];
        for (var i = 0; i < _levels.Length; i++)
        {
            _levels[i] = new PriorityLevelQueue(levelPolicies[i]);
        }
    }

    /// <summary>Online requests waiting now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Online requests taken into a batch that is still gathering: waiting all the same.</summary>
    public int Held => Volatile.Read(ref _held);

    /// <summary>Online batch rows waiting now (a request of 4 rows counts 4).</summary>
    public long Rows => Volatile.Read(ref _rows);

    /// <summary>Background requests waiting now.</summary>
    public int BackgroundCount
    {
        get
        {
            lock (_lock)
            {
                return _background.Count;
            }
        }
    }

    /// <summary>Background rows taken by workers and not yet answered.</summary>
    public long BackgroundRowsRunning => Volatile.Read(ref _backgroundRowsRunning);

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

            if (item.Lane == RequestLane.Background)
            {
                if (_background.Count >= _backgroundCapacity)
                {
                    return EnqueueOutcome.BackgroundQueueFull;
                }

                _background.AddLast(item);
                waiter = CanTakeBackground() ? UnparkOne(background: true) : null;
            }
            else if (_count + _held >= _capacity)
            {
                return EnqueueOutcome.ModelQueueFull;
            }
            else if (_levels[item.Level].IsFull(_heldByLevel[item.Level]))
            {
                return EnqueueOutcome.LevelQueueFull;
            }
            else
            {
                _levels[item.Level].Add(item);
                _count++;
                _rows += item.Validated.BatchSize;
                waiter = UnparkOne(background: false);
            }
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
            if (item.Lane == RequestLane.Online)
            {
                _count--;
                _rows -= item.Validated.BatchSize;
            }

            return true;
        }
    }

    /// <summary>
    /// Takes the next request: the highest priority level first, on-time requests before delayed ones, then a
    /// background request if the background rows running leave room for it. A batch holds one lane only: with
    /// <paramref name="lane"/> set, only that lane's requests are taken (background ones within the cap). With
    /// <paramref name="hold"/>, an online request taken still counts against the queue bounds until
    /// <see cref="ReleaseHeld(List{WorkItem})"/>: it waits in a batch that is still gathering, which is waiting all the same (Triton
    /// counts it so too).
    /// </summary>
    public bool TryDequeue(out WorkItem item, RequestLane? lane = null, bool hold = false)
    {
        lock (_lock)
        {
            if (_count > 0 && lane != RequestLane.Background)
            {
                var now = _time.GetTimestamp();
                for (var index = 0; index < _levels.Length; index++)
                {
                    if (_levels[index].TryTake(now, out item))
                    {
                        _count--;
                        _rows -= item.Validated.BatchSize;
                        item.Sequence = _nextSequence++;
                        if (hold)
                        {
                            item.IsHeld = true;
                            _held++;
                            _heldByLevel[index]++;
                        }

                        return true;
                    }
                }
            }

            if (lane != RequestLane.Online && _count == 0 && _background.First is { } next && FitsBackground(next.Validated.BatchSize))
            {
                _background.Remove(next);
                _backgroundRowsRunning += next.Validated.BatchSize;
                item = next;
                item.Sequence = _nextSequence++;
                return true;
            }
        }

        item = null!;
        return false;
    }

    /// <summary>The held requests among <paramref name="items"/> leave the queue bounds: their batch runs, or they were answered.</summary>
    public void ReleaseHeld(List<WorkItem> items)
    {
        lock (_lock)
        {
            foreach (var item in items)
            {
                ReleaseLocked(item);
            }
        }
    }

    /// <summary>One held request leaves the queue bounds.</summary>
    public void ReleaseHeld(WorkItem item)
    {
        lock (_lock)
        {
            ReleaseLocked(item);
        }
    }

    private void ReleaseLocked(WorkItem item)
    {
        if (item.IsHeld)
        {
            item.IsHeld = false;
            _held--;
            _heldByLevel[item.Level]--;
        }
    }

    /// <summary>A background request taken by <see cref="TryDequeue"/> was answered: its rows no longer count against the cap.</summary>
    public void ReleaseBackground(long rows)
    {
        QueueWaiter? waiter;
        lock (_lock)
        {
            _backgroundRowsRunning -= rows;
            waiter = _count == 0 && CanTakeBackground() ? UnparkOne(background: true) : null;
        }

        waiter?.Wake(true);
    }

    /// <summary>Whether a worker waiting for <paramref name="lane"/> (null: anything) should stop waiting (under the lock).</summary>
    private bool HasWorkFor(RequestLane? lane) => _count > 0 || (lane != RequestLane.Online && CanTakeBackground());

    private bool CanTakeBackground() => _background.First is { } next && FitsBackground(next.Validated.BatchSize);

    /// <summary>Room for <paramref name="rows"/> more background rows; one request always runs when none is running, however big.</summary>
    private bool FitsBackground(long rows) => _backgroundRowsRunning == 0 || _backgroundRowsRunning + rows <= _backgroundRowCap;

    /// <summary>
    /// Waits until a request is queued (true), or until the timestamp <paramref name="wakeAt"/> passes or the queue
    /// closes empty (false); <see cref="long.MaxValue"/> waits without a timeout. The deadline is absolute, so a
    /// worker delayed on its way here does not wait longer. One waiter per worker; it must not wait twice at once.
    /// Blocks the calling thread: only workers, on threads of their own, wait.
    /// </summary>
    /// <remarks>
    /// A worker gathering a batch waits for its batch's <paramref name="lane"/> only: online requests for an online
    /// batch; background ones (or any online arrival, which ends the gathering) for a background batch.
    /// </remarks>
    public bool Wait(QueueWaiter waiter, long wakeAt, RequestLane? lane = null) => ParkUnlessDecided(waiter, wakeAt, lane) ?? waiter.Block();

    /// <summary>The first half of <see cref="Wait"/>: the answer when it is known now, else null with the waiter parked.</summary>
    public bool? ParkUnlessDecided(QueueWaiter waiter, long wakeAt, RequestLane? lane = null)
    {
        lock (_lock)
        {
            if (HasWorkFor(lane))
            {
                return true;
            }

            if (_closed || (wakeAt != long.MaxValue && _time.GetTimestamp() >= wakeAt))
            {
                return false;
            }

            _parked.Add(waiter);
            waiter.Lane = lane;
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
            anyQueued = _count > 0 || _background.Count > 0;
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

    /// <summary>Unparks the most recently parked worker that wants this kind of work: any worker for an online request, not one gathering an online batch for a background one.</summary>
    private QueueWaiter? UnparkOne(bool background)
    {
        for (var i = _parked.Count - 1; i >= 0; i--)
        {
            var waiter = _parked[i];
            if (!background || waiter.Lane != RequestLane.Online)
            {
                _parked.RemoveAt(i);
                waiter.Unpark();
                return waiter;
            }
        }

        return null;
    }
}
