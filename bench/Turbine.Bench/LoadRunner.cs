using System.Diagnostics;

namespace Turbine.Bench;

/// <summary>
/// Drives a scenario with a fixed number of concurrent callers: a warm-up, then timed windows until three in a row
/// agree within 10% (or a cap), and reports the median window.
/// </summary>
internal static class LoadRunner
{
    public static async Task<LoadResult> RunAsync(string scenario, int concurrency, TimeSpan window, Func<CancellationToken, Task<bool>> call)
    {
        await RunWindowAsync(concurrency, TimeSpan.FromSeconds(5), call); // warm-up: long enough for tiered JIT to settle
        var windows = new List<LoadResult>();
        for (var i = 0; i < 8; i++)
        {
            var (latencies, errors) = await RunWindowAsync(concurrency, window, call);
            windows.Add(LoadResult.From(scenario, latencies, window.TotalSeconds, errors));
            if (windows.Count >= 3 && Stable(windows.TakeLast(3).ToList()))
            {
                break;
            }
        }

        var last = windows.TakeLast(3).OrderBy(w => w.RequestsPerSecond).ToList();
        Console.Error.WriteLine($"  {scenario}: windows {string.Join(" ", windows.Select(w => w.RequestsPerSecond.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)))} req/s");
        return last[last.Count / 2];
    }

    private static bool Stable(List<LoadResult> windows)
    {
        var min = windows.Min(w => w.RequestsPerSecond);
        var max = windows.Max(w => w.RequestsPerSecond);
        return max <= min * 1.10;
    }

    private static async Task<(List<long> Latencies, long Errors)> RunWindowAsync(int concurrency, TimeSpan duration, Func<CancellationToken, Task<bool>> call)
    {
        using var stop = new CancellationTokenSource(duration);
        var perWorker = new List<long>[concurrency];
        long errors = 0;
        var workers = new Task[concurrency];
        for (var w = 0; w < concurrency; w++)
        {
            var latencies = perWorker[w] = new List<long>(1 << 16);
            workers[w] = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    var start = Stopwatch.GetTimestamp();
                    bool ok;
                    try
                    {
                        ok = await call(CancellationToken.None);
                    }
                    catch (HttpRequestException)
                    {
                        ok = false;
                    }

                    if (ok)
                    {
                        latencies.Add(Stopwatch.GetTimestamp() - start);
                    }
                    else
                    {
                        Interlocked.Increment(ref errors);
                    }
                }
            });
        }

        await Task.WhenAll(workers);
        return (perWorker.SelectMany(l => l).ToList(), errors);
    }
}
