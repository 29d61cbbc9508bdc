namespace Turbine.IntegrationTests;

/// <summary><c>turbine autoscale simulate</c> from the shell: a bench's capacity, a trace file, the report, the chart and the emitted manifest.</summary>
public sealed class AutoscaleCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("turbine-autoscale-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Policies_are_compared_on_a_recorded_trace_and_the_winners_hpa_passes_the_kubernetes_schema()
    {
        // turbine bench --json output: 25 ms alone (p99 30), 320 requests/s at most: 8 requests at once a replica.
        var bench = Path.Combine(_folder, "bench.json");
        await File.WriteAllTextAsync(bench, """
            [{"protocol":"rest","mode":"closed","load":1,"throughput_rps":40,"p50_ms":25,"p99_ms":30},
             {"protocol":"rest","mode":"closed","load":16,"throughput_rps":320,"p50_ms":48,"p99_ms":90}]
            """);
        var trace = Path.Combine(_folder, "arrivals.csv");
        await File.WriteAllLinesAsync(trace, ["second,count", .. Enumerable.Range(0, 1200).Select(s => $"{s},{(s is > 400 and < 800 ? 600 : 100)}")]);
        var chart = Path.Combine(_folder, "replicas.svg");
        var manifest = Path.Combine(_folder, "hpa.yaml");

        var output = await CliProcess.RunAsync(
            "autoscale", "simulate", "--trace", trace, "--capacity", bench, "--policy", "hpa:16", "hpa:4", "fixed:1", "--slo-ms", "150", "--slo-target", "0.95",
            "--cold-start", "20", "--readiness", "5", "--chart", chart, "--emit", manifest);

        // Its times log-normal through the lone request's p50 and p99: a mean a little above the median.
        Assert.Contains("a replica: 8 at once, 25.1 ms each, log-normal, p99 1.20 × median (319 requests/s)", output, StringComparison.Ordinal);
        Assert.Contains("| fixed 1 |", output, StringComparison.Ordinal);
        Assert.Matches(@"\| hpa \(target 4 in flight a pod\) \*\*\(chosen\)\*\*|\| hpa \(target 16 in flight a pod\) \*\*\(chosen\)\*\*", output);
        Assert.Contains("<polyline", await File.ReadAllTextAsync(chart), StringComparison.Ordinal);
        var yaml = await File.ReadAllTextAsync(manifest);
        Assert.Contains("kind: HorizontalPodAutoscaler", yaml, StringComparison.Ordinal);
        var validation = await ChildProcess.ValidateKubernetesAsync(yaml);
        Assert.True(validation.ExitCode == 0, validation.Output + validation.Errors);
    }

    [Fact]
    public async Task A_fixed_fleet_too_small_for_the_trace_misses_the_objective_and_refuses_requests()
    {
        var output = await CliProcess.RunAsync("autoscale", "simulate", "--synthetic", "poisson", "--rate", "500", "--duration", "300", "--slots", "4", "--service-ms", "20", "--policy", "fixed:1", "fixed:4");

        var lines = output.Split('\n');
        var one = lines.Single(l => l.StartsWith("| fixed 1 ", StringComparison.Ordinal)).Split('|', StringSplitOptions.TrimEntries);
        var four = lines.Single(l => l.StartsWith("| fixed 4 ", StringComparison.Ordinal)).Split('|', StringSplitOptions.TrimEntries);
        Assert.True(long.Parse(one[4], System.Globalization.CultureInfo.InvariantCulture) > 0); // 500 requests/s on one replica of 200
        Assert.Equal("0", four[4]);
    }
}
