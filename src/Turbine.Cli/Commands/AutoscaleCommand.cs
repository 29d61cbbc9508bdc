using System.CommandLine;
using System.Globalization;
using System.Text;
using Turbine.Autoscaling;
using Turbine.Cli.Autoscale;

namespace Turbine.Cli.Commands;

/// <summary>
/// <c>turbine autoscale simulate</c>: replays an arrival trace (recorded, or synthetic) against a fleet whose replicas
/// serve as `turbine bench` measured, under each policy, and reports them side by side with a chart; with
/// <c>--emit</c> writes the winner's HPA or ScaledObject (docs/KUBERNETES.md).
/// </summary>
internal static class AutoscaleCommand
{
    public static Command Create()
    {
        var command = new Command("autoscale", "Compare autoscaling policies on a traffic trace before they go live");
        command.Subcommands.Add(Simulate());
        return command;
    }

    private static Command Simulate()
    {
        var trace = new Option<FileInfo?>("--trace") { Description = "Arrivals: a CSV of timestamps (seconds), or of 'second,count' lines" };
        var synthetic = new Option<string?>("--synthetic") { Description = "A synthetic trace instead: poisson, diurnal, bursty or flash" };
        var rate = new Option<double>("--rate") { Description = "The synthetic trace's base rate (requests/s)", DefaultValueFactory = _ => 50 };
        var peak = new Option<double>("--peak") { Description = "The synthetic trace's peak rate (requests/s)", DefaultValueFactory = _ => 400 };
        var duration = new Option<double>("--duration") { Description = "The synthetic trace's length (s)", DefaultValueFactory = _ => 3600 };
        var capacity = new Option<FileInfo?>("--capacity") { Description = "turbine bench --json output: a replica's service time and capacity" };
        var slots = new Option<int>("--slots") { Description = "Without --capacity: requests a replica serves at once", DefaultValueFactory = _ => 4 };
        var serviceMs = new Option<double>("--service-ms") { Description = "Without --capacity: a request's service time (ms): the mean, or with --service-p99-ms the median", DefaultValueFactory = _ => 20 };
        var serviceP99 = new Option<double?>("--service-p99-ms") { Description = "Without --capacity: a lone request's p99 (ms); service times are then log-normal through it and the median (default: exponential)" };
        var policies = new Option<string[]>("--policy") { Description = "hpa[:target], keda[:threshold], kpa[:target], predictive[:utilization], fixed:N (repeatable; default: hpa, keda, kpa, predictive)", AllowMultipleArgumentsPerToken = true };
        var slo = new Option<double>("--slo-ms") { Description = "A request answered within this meets the objective", DefaultValueFactory = _ => 100 };
        var target = new Option<double>("--slo-target") { Description = "The attainment a policy must reach to win on cost", DefaultValueFactory = _ => 0.99 };
        var coldStart = new Option<double>("--cold-start") { Description = "Seconds from a scale-up to a running process", DefaultValueFactory = _ => 30 };
        var readiness = new Option<double>("--readiness") { Description = "Seconds from a running process to ready (models warmed)", DefaultValueFactory = _ => 10 };
        var price = new Option<double>("--price") { Description = "A replica-hour's price", DefaultValueFactory = _ => 1 };
        var maxReplicas = new Option<int>("--max-replicas") { Description = "The most replicas any policy may run", DefaultValueFactory = _ => 20 };
        var seed = new Option<int>("--seed") { Description = "Seeds the synthetic trace and the service times", DefaultValueFactory = _ => 1 };
        var chart = new Option<FileInfo?>("--chart") { Description = "Write the replicas-over-time chart (SVG) here" };
        var emit = new Option<FileInfo?>("--emit") { Description = "Write the winning policy's HPA or ScaledObject here (YAML)" };
        var command = new Command("simulate", "Replay a trace through HPA v2, KEDA, Knative's KPA and a predictive policy; SLO attainment, p99, refusals, replica-minutes and cost side by side")
        {
            trace, synthetic, rate, peak, duration, capacity, slots, serviceMs, serviceP99, policies, slo, target, coldStart, readiness, price, maxReplicas, seed, chart, emit,
        };
        command.SetAction(parse =>
        {
            var errors = new List<string>();
            var service = parse.GetValue(capacity) is { } bench
                ? BenchCapacity.Read(File.ReadAllText(bench.FullName), errors)
                : parse.GetValue(serviceP99) is { } p99
                    ? ServiceModel.Measured(Math.Max(1, parse.GetValue(slots)), parse.GetValue(serviceMs) / 1000, p99 / 1000)
                    : new ServiceModel(Math.Max(1, parse.GetValue(slots)), parse.GetValue(serviceMs) / 1000);
            var arrivals = Trace(parse.GetValue(trace), parse.GetValue(synthetic), parse.GetValue(rate), parse.GetValue(peak), parse.GetValue(duration), parse.GetValue(seed), errors);
            var specs = service is null ? [] : (parse.GetValue(policies) is { Length: > 0 } named ? named : ["hpa", "keda", "kpa", "predictive"])
                .Select(p => PolicySpec.Parse(p, parse.GetValue(maxReplicas), service, errors)).ToList();
            if (errors.Count > 0 || service is null || arrivals is null)
            {
                foreach (var error in errors)
                {
                    Console.Error.WriteLine($"error: {error}");
                }

                return 2;
            }

            var fleet = new FleetSettings(service, parse.GetValue(coldStart), parse.GetValue(readiness), 15, 1, parse.GetValue(slo) / 1000, parse.GetValue(price));
            var results = new List<(PolicySpec Spec, SimulationResult Outcome)>();
            foreach (var spec in specs)
            {
                Console.Error.WriteLine($"simulating {spec!.Kind} over {arrivals.Arrivals.Count} requests ...");
                // Each fleet starts as its policy would leave it at rest: a fixed one at its size, the others at their minimum (one at least).
                var settings = fleet with { SyncPeriodSeconds = spec.SyncPeriodSeconds, InitialReplicas = Math.Max(1, spec.MinReplicas) };
                results.Add((spec, FleetSimulator.Run(arrivals, settings, spec.Create(settings), parse.GetValue(seed))));
            }

            var winner = Winner(results, parse.GetValue(target));
            Console.WriteLine(Report(arrivals, service, fleet, results, winner, parse.GetValue(target)));
            if (parse.GetValue(chart) is { } svg)
            {
                File.WriteAllText(svg.FullName, AutoscaleChart.Render($"Replicas over time ({arrivals.Arrivals.Count} requests)", arrivals, service, [.. results.Select(r => r.Outcome)]));
            }

            if (parse.GetValue(emit) is { } file)
            {
                if (winner.Spec.Manifest() is not { } manifest)
                {
                    Console.Error.WriteLine($"error: the winner ({winner.Outcome.Policy}) has no Kubernetes manifest; compare hpa or keda policies to emit one");
                    return 3;
                }

                File.WriteAllText(file.FullName, manifest);
                Console.WriteLine($"wrote {file.FullName}");
            }

            return 0;
        });
        return command;
    }

    private static ArrivalTrace? Trace(FileInfo? file, string? synthetic, double rate, double peak, double duration, int seed, List<string> errors)
    {
        if (file is not null)
        {
            return ArrivalTrace.ReadCsv(file.FullName);
        }

        switch (synthetic)
        {
            case "poisson":
                return ArrivalTrace.Poisson(rate, duration, seed);
            case "diurnal":
                return ArrivalTrace.Diurnal(rate, peak, duration, seed);
            case "bursty":
                return ArrivalTrace.Bursty(rate, peak, duration / 60, duration / 6, duration, seed);
            case "flash":
                return ArrivalTrace.FlashCrowd(rate, peak, duration / 4, duration / 6, duration, seed);
            default:
                errors.Add("give --trace FILE or --synthetic poisson|diurnal|bursty|flash");
                return null;
        }
    }

    /// <summary>The cheapest policy that reaches the attainment target; else the one that comes closest.</summary>
    private static (PolicySpec Spec, SimulationResult Outcome) Winner(List<(PolicySpec Spec, SimulationResult Outcome)> results, double target) =>
        results.Where(r => r.Outcome.SloAttainment >= target).OrderBy(r => r.Outcome.Cost).FirstOrDefault() is { Spec: not null } cheapest
            ? cheapest
            : results.OrderByDescending(r => r.Outcome.SloAttainment).ThenBy(r => r.Outcome.Cost).First();

    private static string Report(ArrivalTrace trace, ServiceModel service, FleetSettings fleet, List<(PolicySpec Spec, SimulationResult Outcome)> results, (PolicySpec Spec, SimulationResult Outcome) winner, double target)
    {
        var culture = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(culture, $"{trace.Arrivals.Count} requests over {trace.Duration:F0} s; a replica: {service.Slots} at once, {service.MeanServiceSeconds * 1000:F1} ms each, {service.Describe()} ({service.Capacity:F0} requests/s); cold start {fleet.ColdStartSeconds} s + readiness {fleet.ReadinessSeconds} s; SLO {fleet.SloSeconds * 1000:F0} ms");
        text.AppendLine();
        text.AppendLine("| policy | SLO attainment | p99 ms | refused | replica-minutes | max replicas | cost |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var (_, result) in results)
        {
            text.AppendLine(culture,
                $"| {result.Policy}{(result == winner.Outcome ? " **(chosen)**" : string.Empty)} | {result.SloAttainment:P2} | {result.P99Latency * 1000:F1} | {result.Refused} | {result.ReplicaSeconds / 60:F0} | {result.MaxReplicas} | {result.Cost:F3} |");
        }

        text.AppendLine();
        text.Append(culture, $"chosen: the cheapest policy at {target:P1} attainment or more, else the closest: {winner.Outcome.Policy}");
        return text.ToString();
    }
}
