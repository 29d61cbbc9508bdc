namespace Turbine.Monitoring.Cost;

/// <summary>Prices that turn attributed CPU and GPU time into money (the server's <c>Turbine:Cost</c> settings).</summary>
public sealed class CostOptions
{
    /// <summary>Whether the server attributes cost (on by default: a usage record per request, a settlement every few seconds).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The price of one CPU core for an hour.</summary>
    public double CoreHourPrice { get; set; }

    /// <summary>The price of one GPU for an hour.</summary>
    public double GpuHourPrice { get; set; }

    /// <summary>The currency the prices are in, for reports.</summary>
    public string Currency { get; set; } = "USD";

    /// <summary>How often the process's CPU time is split among the consumers (a scrape or a report also splits).</summary>
    public TimeSpan SettleInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The cost of <paramref name="cpuSeconds"/> of CPU and <paramref name="gpuSeconds"/> of GPU.</summary>
    public double Price(double cpuSeconds, double gpuSeconds) => ((cpuSeconds * CoreHourPrice) + (gpuSeconds * GpuHourPrice)) / 3600;
}
