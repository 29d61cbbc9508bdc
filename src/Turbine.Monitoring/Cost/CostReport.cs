namespace Turbine.Monitoring.Cost;

/// <summary>What the ledger attributed so far, and its prices.</summary>
/// <param name="Currency">The prices' currency.</param>
/// <param name="CoreHourPrice">The price of a core-hour.</param>
/// <param name="GpuHourPrice">The price of a GPU-hour.</param>
/// <param name="CpuSeconds">The process's CPU time over the ledger's life.</param>
/// <param name="IdleCpuSeconds">CPU time in intervals without any execution.</param>
/// <param name="NoRouteCpuSeconds">CPU time of requests that named no route (and idle time).</param>
/// <param name="NoJobCpuSeconds">CPU time of requests outside batch jobs (and idle time).</param>
/// <param name="NoApiKeyCpuSeconds">CPU time of requests without an API key (and idle time).</param>
/// <param name="Versions">Per model version.</param>
/// <param name="Arms">Per route arm (name: route, variant: arm).</param>
/// <param name="Jobs">Per batch job.</param>
/// <param name="ApiKeys">Per API key.</param>
public sealed record CostReport(
    string Currency, double CoreHourPrice, double GpuHourPrice, double CpuSeconds, double IdleCpuSeconds, double NoRouteCpuSeconds, double NoJobCpuSeconds, double NoApiKeyCpuSeconds,
    IReadOnlyList<CostLine> Versions, IReadOnlyList<CostLine> Arms, IReadOnlyList<CostLine> Jobs, IReadOnlyList<CostLine> ApiKeys);

/// <summary>One consumer's figures.</summary>
/// <param name="Name">The model, route, job or API key.</param>
/// <param name="Detail">The version or the route's arm; empty otherwise.</param>
/// <param name="Count">Inferences (versions) or requests.</param>
/// <param name="CpuSeconds">CPU time attributed.</param>
/// <param name="GpuSeconds">GPU time (versions on GPU instances).</param>
/// <param name="Cost">What that time cost at the configured prices.</param>
public sealed record CostLine(string Name, string Detail, long Count, double CpuSeconds, double GpuSeconds, double Cost)
{
    /// <summary>The cost of a thousand inferences or requests (zero before any).</summary>
    public double CostPerThousand => Count == 0 ? 0 : Cost * 1000 / Count;
}
