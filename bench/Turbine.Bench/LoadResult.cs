namespace Turbine.Bench;

/// <summary>Throughput and latency percentiles of one scenario: the median of its last three windows.</summary>
internal sealed record LoadResult(string Scenario, double RequestsPerSecond, double P50Ms, double P90Ms, double P99Ms, long Errors);
