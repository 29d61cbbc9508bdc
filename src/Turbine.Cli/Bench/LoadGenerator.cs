using System.Diagnostics;

namespace Turbine.Cli.Bench;

/// <summary>
/// Sends requests for one window and records each latency. Closed loop: N callers, each waiting for its answer
/// before it sends again. Open loop: requests leave on a schedule whatever the server does (so a stalled server
/// cannot slow the sender down and hide its own stall, perf_analyzer's "coordinated omission"); each latency counts
/// from the moment its request left, because timers wake up to a millisecond late and that is the client's delay,
/// not the server's.
/// </summary>
internal static class LoadGenerator
{
    /// <summary>Outstanding open-loop requests beyond this are counted as errors instead of sent: the client's own bound.</summary>
    private const int MaxOutstanding = 20_000;

    public static async Task<WindowResult> ClosedLoopAsync(int concurrency, TimeSpan window, Func<int, Task> call)
    {
        using var stop = new CancellationTokenSource(window);
        var latencies = new List<long>[concurrency];
        var failures = new List<long>[concurrency];
        var callers = new Task[concurrency];
        var started = Stopwatch.GetTimestamp();
        for (var c = 0; c < concurrency; c++)
        {
            var caller = c;
            var succeeded = latencies[caller] = new List<long>(4096);
            var failed = failures[caller] = [];
            callers[caller] = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    var start = Stopwatch.GetTimestamp();
                    var ok = await SucceedsAsync(call, caller);
                    (ok ? succeeded : failed).Add(Stopwatch.GetTimestamp() - start);
                }
            });
        }

        await Task.WhenAll(callers);
        List<long> errors = [.. failures.SelectMany(l => l)];
        return WindowResult.From([.. latencies.SelectMany(l => l)], Stopwatch.GetElapsedTime(started).TotalSeconds, errors.Count, errors);
    }

    public static async Task<WindowResult> OpenLoopAsync(double rate, Arrivals arrivals, TimeSpan window, Func<int, Task> call, Random random)
    {
        var latencies = new List<long>(4096);
        var failures = new List<long>();
        var gate = new Lock();
        long errors = 0;
        var outstanding = 0;
        var inFlight = new List<Task>();
        var start = Stopwatch.GetTimestamp();
        var end = start + (long)(window.TotalSeconds * Stopwatch.Frequency);
        var next = (double)start;
        var sent = 0;
        while (next < end)
        {
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), (long)next);
            if (wait > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(wait);
            }

            // Send everything that is due; timers are coarse, so several may be.
            var now = Stopwatch.GetTimestamp();
            while (next <= now && next < end)
            {
                if (Volatile.Read(ref outstanding) >= MaxOutstanding)
                {
                    Interlocked.Increment(ref errors);
                }
                else
                {
                    Interlocked.Increment(ref outstanding);
                    inFlight.Add(SendAsync(sent++));
                }

                next += Gap(rate, arrivals, random) * Stopwatch.Frequency;
            }
        }

        await Task.WhenAll(inFlight);
        return WindowResult.From(latencies, window.TotalSeconds, errors, failures);

        async Task SendAsync(int index)
        {
            var left = Stopwatch.GetTimestamp();
            var ok = await SucceedsAsync(call, index);
            var latency = Stopwatch.GetTimestamp() - left;
            Interlocked.Decrement(ref outstanding);
            if (!ok)
            {
                Interlocked.Increment(ref errors);
            }

            lock (gate)
            {
                (ok ? latencies : failures).Add(latency);
            }
        }
    }

    /// <summary>Seconds until the next arrival.</summary>
    internal static double Gap(double rate, Arrivals arrivals, Random random) =>
        arrivals == Arrivals.Constant ? 1.0 / rate : -Math.Log(1.0 - random.NextDouble()) / rate;

    private static async Task<bool> SucceedsAsync(Func<int, Task> call, int caller)
    {
        try
        {
            await call(caller);
            return true;
        }
#pragma warning disable CA1031 // any failure of one request is counted, and the run goes on
        catch (Exception)
#pragma warning restore CA1031
        {
            return false;
        }
    }
}
