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

    /// <summary>
    /// Whether a timer callback belongs to the current wait. A callback of an earlier wait can still arrive after that
    /// wait was woken by a request and the worker parked again; it is ignored unless the current wait is due within
    /// a millisecond anyway (system timers may also fire a little early, which this tolerates).
    /// </summary>
    public bool IsDue() => _time.GetTimestamp() >= WakeAt - (_time.TimestampFrequency / 1000);

    public ValueTask<bool> Park(TimeSpan timeout)
    {
        _core.Reset();
        IsParked = true;
        WakeAt = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : _time.GetTimestamp() + (long)(timeout.TotalSeconds * _time.TimestampFrequency);
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            _timer.Change(timeout, Timeout.InfiniteTimeSpan);
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
