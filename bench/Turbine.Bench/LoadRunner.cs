using Turbine.Cli.Bench;

namespace Turbine.Bench;

/// <summary>
/// Drives a scenario with a fixed number of concurrent callers through <c>turbine bench</c>'s generator: a warm-up,
/// then timed windows until three in a row agree within 10% (or a cap), and reports the median of the last three.
/// </summary>
internal static class LoadRunner
{
    private const int MaxWindows = 8;

    public static async Task<LoadResult> RunAsync(string scenario, int concurrency, TimeSpan window, Func<CancellationToken, Task<bool>> call)
    {
        async Task SendAsync(int caller)
        {
            if (!await call(CancellationToken.None))
            {
                throw new InvalidOperationException("the scenario's call did not succeed"); // counted as an error
            }
        }

        await LoadGenerator.ClosedLoopAsync(concurrency, TimeSpan.FromSeconds(5), SendAsync); // warm-up: long enough for tiered JIT to settle
        var windows = new List<WindowResult>();
        while (windows.Count < MaxWindows && !WindowResult.LastThreeAgree(windows, 0.10))
        {
            windows.Add(await LoadGenerator.ClosedLoopAsync(concurrency, window, SendAsync));
        }

        Console.Error.WriteLine($"  {scenario}: windows {string.Join(" ", windows.Select(w => w.Throughput.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)))} calls/s");
        var median = WindowResult.MedianOfLastThree(windows);
        return new LoadResult(scenario, median.Throughput, median.P50Ms, median.P90Ms, median.P99Ms, median.Errors);
    }
}
