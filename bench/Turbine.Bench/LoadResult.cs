namespace Turbine.Bench;

/// <summary>Throughput and latency percentiles of one measured window.</summary>
internal sealed record LoadResult(string Scenario, double RequestsPerSecond, double P50Ms, double P90Ms, double P99Ms, long Errors)
{
    public static LoadResult From(string scenario, List<long> latencyTicks, double seconds, long errors)
    {
        latencyTicks.Sort();
        double Percentile(double p) => latencyTicks.Count == 0 ? double.NaN
            : latencyTicks[Math.Min(latencyTicks.Count - 1, (int)(p * latencyTicks.Count))] * 1000.0 / System.Diagnostics.Stopwatch.Frequency;
        return new LoadResult(scenario, latencyTicks.Count / seconds, Percentile(0.50), Percentile(0.90), Percentile(0.99), errors);
    }
}
