using Turbine.Core.Observation;
using Turbine.Monitoring.Cost;

namespace Turbine.Monitoring.Tests;

public sealed class CostLedgerTests
{
    private readonly List<VersionCompute> _versions = [];
    private TimeSpan _cpu = TimeSpan.FromSeconds(100);

    [Fact]
    public void Cpu_time_is_split_by_execution_time_and_every_dimension_sums_to_it()
    {
        var ledger = new CostLedger(new CostOptions { CoreHourPrice = 3.6 }, () => _versions, () => _cpu);
        _versions.Add(new("a", "1", 3_000_000_000, 300, false));
        _versions.Add(new("b", "1", 1_000_000_000, 100, false));
        Use(ledger, "a", 3_000_000_000, route: "r", variant: "blue", key: "team-a");
        Use(ledger, "b", 1_000_000_000, route: null, variant: null, key: null, job: "job-1");
        _cpu += TimeSpan.FromSeconds(8);

        var report = ledger.Report();

        Assert.Equal(8, report.CpuSeconds, 9);
        Assert.Equal(6, report.Versions.Single(v => v.Name == "a").CpuSeconds, 9);
        Assert.Equal(2, report.Versions.Single(v => v.Name == "b").CpuSeconds, 9);
        Assert.Equal(0.006, report.Versions.Single(v => v.Name == "a").Cost, 9); // 6 s at 3.6 a core-hour
        Assert.Equal(0.02, report.Versions.Single(v => v.Name == "a").CostPerThousand, 9);
        Assert.Equal(6, report.Arms.Single().CpuSeconds, 9);
        Assert.Equal(2, report.Jobs.Single().CpuSeconds, 9);
        Assert.Equal(6, report.ApiKeys.Single().CpuSeconds, 9);
        Assert.Equal(report.CpuSeconds, report.Versions.Sum(v => v.CpuSeconds) + report.IdleCpuSeconds, 9);
        Assert.Equal(report.CpuSeconds, report.Arms.Sum(v => v.CpuSeconds) + report.NoRouteCpuSeconds, 9);
        Assert.Equal(report.CpuSeconds, report.Jobs.Sum(v => v.CpuSeconds) + report.NoJobCpuSeconds, 9);
        Assert.Equal(report.CpuSeconds, report.ApiKeys.Sum(v => v.CpuSeconds) + report.NoApiKeyCpuSeconds, 9);
    }

    [Fact]
    public void Time_without_executions_is_idle_and_gpu_versions_count_their_execution_as_gpu_time()
    {
        var ledger = new CostLedger(new CostOptions { GpuHourPrice = 36 }, () => _versions, () => _cpu);
        _versions.Add(new("g", "1", 0, 0, true));
        _cpu += TimeSpan.FromSeconds(2);
        ledger.Settle();
        _versions[0] = new("g", "1", 500_000_000, 10, true);
        _cpu += TimeSpan.FromSeconds(1);

        var report = ledger.Report();

        Assert.Equal(2, report.IdleCpuSeconds, 9);
        var g = report.Versions.Single();
        Assert.Equal(1, g.CpuSeconds, 9);
        Assert.Equal(0.5, g.GpuSeconds, 9);
        Assert.Equal(0.005, g.Cost, 9);
    }

    [Fact]
    public void Attribution_follows_the_process_measured_cpu_time()
    {
        var before = Measured();
        var ledger = new CostLedger(new CostOptions(), () => _versions);
        var spent = System.Diagnostics.Stopwatch.StartNew();
        var x = 0.0;
        while (spent.ElapsedMilliseconds < 200)
        {
            x += Math.Sqrt(x + 1);
        }

        _versions.Add(new("busy", "1", 200_000_000, 1, false));
        var report = ledger.Report();
        var after = Measured();

        Assert.True(x > 0);
        var measured = (after - before).TotalSeconds;
        Assert.True(measured > 0.05, $"the loop used {measured} s of CPU");
        Assert.InRange(report.CpuSeconds, measured * 0.8, measured);
        Assert.Equal(report.CpuSeconds, report.Versions.Sum(v => v.CpuSeconds) + report.IdleCpuSeconds, 9);
    }

    private static TimeSpan Measured()
    {
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    private static void Use(CostLedger ledger, string model, long nanoseconds, string? route, string? variant, string? key, string? job = null) =>
        ledger.Record(new InferenceUsage(model, route, variant, nanoseconds, false, new UsageAccount(key, job)));
}
