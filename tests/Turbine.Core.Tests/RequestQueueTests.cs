using Microsoft.Extensions.Time.Testing;
using Turbine.Core.Execution.Scheduling;

namespace Turbine.Core.Tests;

public sealed class RequestQueueTests
{
    [Fact]
    public void A_timed_wait_ends_on_time_even_when_the_timer_fires_early()
    {
        var time = new EarlyTimers(new FakeTimeProvider());
        var queue = new RequestQueue(4, [QueuePolicyConfig.None], time);
        using var waiter = new QueueWaiter(queue, time);

        Assert.Null(queue.ParkUnlessDecided(waiter, time.GetTimestamp() + (time.TimestampFrequency / 100))); // 10 ms from now
        time.Fake.Advance(TimeSpan.FromMilliseconds(8)); // the timer fires here, 2 ms early
        Assert.False(waiter.IsWoken);
        time.Fake.Advance(TimeSpan.FromMilliseconds(2));

        Assert.True(waiter.IsWoken);
        Assert.False(waiter.Block()); // timed out: nothing was queued
    }

    /// <summary>A clock whose timers fire at 80% of their due time, as coarse system timers may fire a little early.</summary>
    private sealed class EarlyTimers(FakeTimeProvider fake) : TimeProvider
    {
        public FakeTimeProvider Fake { get; } = fake;

        public override long TimestampFrequency => Fake.TimestampFrequency;

        public override long GetTimestamp() => Fake.GetTimestamp();

        public override DateTimeOffset GetUtcNow() => Fake.GetUtcNow();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            new EarlyTimer(Fake.CreateTimer(callback, state, Early(dueTime), period));

        private static TimeSpan Early(TimeSpan due) => due == Timeout.InfiniteTimeSpan ? due : due * 0.8;

        private sealed class EarlyTimer(ITimer inner) : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => inner.Change(Early(dueTime), period);

            public void Dispose() => inner.Dispose();

            public ValueTask DisposeAsync() => inner.DisposeAsync();
        }
    }
}
