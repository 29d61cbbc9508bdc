using System.Threading.Tasks.Sources;

namespace Turbine.Core.Execution.Scheduling;

/// <summary>
/// A worker parked on an empty <see cref="RequestQueue"/>: one reusable awaitable and one reusable timer per worker,
/// so waiting allocates nothing. Whoever unparks it (an enqueue, the timer, closing) does so under the queue's lock,
/// so it completes exactly once per wait.
/// </summary>
internal sealed class QueueWaiter : IValueTaskSource<bool>, IDisposable
{
    private readonly RequestQueue _queue;
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };

    public QueueWaiter(RequestQueue queue, TimeProvider time)
    {
        _queue = queue;
        _time = time;
        _timer = time.CreateTimer(static state => ((QueueWaiter)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Whether the waiter is on the queue's parked list. Read and written under the queue's lock.</summary>
    public bool IsParked { get; private set; }

    /// <summary>When this wait times out, as a timestamp.</summary>
    public long WakeAt { get; private set; }

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

    /// <summary>Parks until woken, or until the timestamp <paramref name="wakeAt"/> (<see cref="long.MaxValue"/>: no timeout).</summary>
    public ValueTask<bool> Park(long wakeAt)
    {
        _core.Reset();
        IsParked = true;
        WakeAt = wakeAt;
        if (wakeAt != long.MaxValue)
        {
            Rearm();
        }

        return new ValueTask<bool>(this, _core.Version);
    }

    /// <summary>Marks the waiter as taken off the parked list; the caller then calls <see cref="Wake"/> outside the lock.</summary>
    public void Unpark() => IsParked = false;

    public void Wake(bool result) => _core.SetResult(result);

    private void OnTimer() => _queue.OnWaiterTimer(this);

    public bool GetResult(short token) => _core.GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    public void Dispose() => _timer.Dispose();
}
