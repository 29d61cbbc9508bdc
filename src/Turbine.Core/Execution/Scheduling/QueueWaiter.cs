namespace Turbine.Core.Execution.Scheduling;

/// <summary>
/// A worker thread parked on an empty <see cref="RequestQueue"/>: one reusable event and one reusable timer per
/// worker, so waiting allocates nothing. Whoever unparks it (an enqueue, the timer, closing) does so under the
/// queue's lock, so it is woken exactly once per wait. Workers run on threads of their own, so blocking here holds
/// no thread-pool thread.
/// </summary>
internal sealed class QueueWaiter : IDisposable
{
    private readonly RequestQueue _queue;
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private readonly ManualResetEventSlim _woken = new(initialState: false);
    private volatile bool _result;

    public QueueWaiter(RequestQueue queue, TimeProvider time)
    {
        _queue = queue;
        _time = time;
        _timer = time.CreateTimer(static state => ((QueueWaiter)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Whether the waiter is on the queue's parked list. Read and written under the queue's lock.</summary>
    public bool IsParked { get; private set; }

    /// <summary>What the parked worker waits for: any work (null), online requests only, or more background work (an online arrival ends that wait too).</summary>
    public RequestLane? Lane { get; set; }

    /// <summary>When this wait times out, as a timestamp.</summary>
    public long WakeAt { get; private set; }

    /// <summary>Whether the current wait has ended.</summary>
    public bool IsWoken => _woken.IsSet;

    public bool IsDue() => _time.GetTimestamp() >= WakeAt;

    /// <summary>
    /// Arms the timer for what is left of this wait, counted when it is armed, so time that passes before the wait
    /// starts shortens it instead of being added to it. Timers count on a coarser clock than timestamps and may
    /// fire a few milliseconds early; a callback left over from an earlier wait may also arrive. Either way the wait
    /// must still end on time, or a batch that nobody else will join would wait forever.
    /// </summary>
    public void Rearm()
    {
        var remaining = _time.GetElapsedTime(_time.GetTimestamp(), WakeAt);
        _timer.Change(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Parks until woken, or until the timestamp <paramref name="wakeAt"/> (<see cref="long.MaxValue"/>: no timeout). Called under the queue's lock.</summary>
    public void Park(long wakeAt)
    {
        _woken.Reset();
        IsParked = true;
        WakeAt = wakeAt;
        if (wakeAt != long.MaxValue)
        {
            Rearm();
        }
    }

    /// <summary>Marks the waiter as taken off the parked list; the caller then calls <see cref="Wake"/> outside the lock.</summary>
    public void Unpark() => IsParked = false;

    public void Wake(bool result)
    {
        _result = result;
        _woken.Set();
    }

    /// <summary>Blocks the worker's thread until the wait ends: true when a request was queued, false on timeout or close.</summary>
    public bool Block()
    {
        _woken.Wait();
        return _result;
    }

    private void OnTimer() => _queue.OnWaiterTimer(this);

    public void Dispose()
    {
        _timer.Dispose();
        _woken.Dispose();
    }
}
