namespace Turbine.Cli.Bench;

/// <summary>
/// Throughput and latency percentiles of one measured window (or of one whole step). Errors have their own p99:
/// a server that refuses excess load should refuse it at once, and this shows whether it does.
/// </summary>
internal sealed record WindowResult(double Throughput, double P50Ms, double P90Ms, double P95Ms, double P99Ms, long Requests, long Errors, double ErrorP99Ms = double.NaN)
{
    /// <param name="latencyTicks">Latencies of the successful requests, in <see cref="System.Diagnostics.Stopwatch"/> ticks; sorted in place.</param>
    /// <param name="seconds">Length of the window.</param>
    /// <param name="errors">Failed requests.</param>
    /// <param name="errorTicks">Latencies of the failed requests that got an answer, if known; sorted in place.</param>
    public static WindowResult From(List<long> latencyTicks, double seconds, long errors, List<long>? errorTicks = null)
    {
        latencyTicks.Sort();
        errorTicks?.Sort();
        return new WindowResult(
            latencyTicks.Count / seconds,
            Percentile(latencyTicks, 0.50), Percentile(latencyTicks, 0.90), Percentile(latencyTicks, 0.95), Percentile(latencyTicks, 0.99),
            latencyTicks.Count, errors, errorTicks is null ? double.NaN : Percentile(errorTicks, 0.99));
    }

    /// <summary>Whether the last three windows agree within <paramref name="tolerance"/> (perf_analyzer's stability rule).</summary>
    public static bool LastThreeAgree(IReadOnlyList<WindowResult> windows, double tolerance)
    {
        if (windows.Count < 3)
        {
            return false;
        }

        var min = double.MaxValue;
        var max = double.MinValue;
        for (var i = windows.Count - 3; i < windows.Count; i++)
        {
            min = Math.Min(min, windows[i].Throughput);
            max = Math.Max(max, windows[i].Throughput);
        }

        return max > 0 && max <= min * (1 + tolerance);
    }

    /// <summary>The window of median throughput among the last three (or fewer, when fewer were measured).</summary>
    public static WindowResult MedianOfLastThree(IReadOnlyList<WindowResult> windows) =>
        windows.TakeLast(3).OrderBy(w => w.Throughput).ElementAt(Math.Min(windows.Count, 3) / 2);

    /// <summary>Nearest-rank percentile, in milliseconds.</summary>
    private static double Percentile(List<long> sorted, double fraction) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(fraction * sorted.Count) - 1)] * 1000.0 / System.Diagnostics.Stopwatch.Frequency;
}
