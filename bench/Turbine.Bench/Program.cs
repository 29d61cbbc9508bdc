using System.Globalization;
using System.Text;
using Turbine.Bench;

// Usage: dotnet run -c Release --project bench/Turbine.Bench -- [--scenario compare|overload|cross-check|hot-reload|lifecycle-storm|route|lane|batch|monitoring|generation|optimize|paging|edge]
//        [--model mlp|mlp-medium|resnet18] [--concurrency 64] [--window 3] [--instances N] [--batching-delay-us N]
//        [--only rest,binary,grpc] [--target-ms 100] [--intra-op-threads N] [--out docs/benchmarks]
// compare: Turbine beside the references (ORT in-process at batch 1 and 32, Kestrel and gRPC constant, naive ASP.NET).
// overload: twice the sustainable load against a latency target and a queue limit.
// cross-check: the same HTTP and gRPC endpoints loaded by wrk and h2load.
// hot-reload: p99 of the model while a larger one is reloaded in a loop, against no reloads [--rounds 5 --reload-pause-ms 0].
// lifecycle-storm: 32 threads x 1024 load/unload calls while clients infer [--threads 32 --operations 1024].
// route: the model called directly against a route splitting 50/50 and one shadowing a share [--rounds 5 --shadow-share 0.1].
// lane: online p99 alone and while background-lane clients saturate the model [--rounds 5 --background 32].
// batch: a batch job's rows/s against ONNX Runtime at the same batch size, and online p99 while a job runs [--rows 20000 --batch 32 --rounds 5].
// generation: the LLM engine at 1, 4, 16 and 64 streams against one at a time, the prefix cache, and batch-1 overhead against bare ONNX Runtime [--prompt 32 --tokens 64 --rounds 3].
// monitoring: the same load with monitoring off, on at the default sample rate, and observing every request (issue 17's 5% budget) [--rounds 5].
// autoscale-check: the autoscaling simulator's p50/p99 against `turbine serve` processes, one core each, behind a balancer at 30/50/70% load, 1 and N replicas [--servers 2; --model resnet18].
// paging: 200 small models with a budget for 20, Zipf traffic; LRU and LFU against all loaded [--models 200 --resident 20 --zipf 1.0 --warm-up 5 --window 20 --concurrency 16].
// optimize: turbine optimize's candidates against the original, --model mlp-medium|resnet18|minilm [--batches 1,32 --rounds 5 --round-seconds 1].
// edge: the published turbine-edge (--edge-binary out/edge/turbine-edge) at 1 and 2 threads against turbine serve: CPU-seconds per 1,000 inferences, req/s, RSS, threads [--concurrency 4 --window 10 --rounds 3].
var scenario = Arg("--scenario", "compare");
var modelName = Arg("--model", "mlp");
var concurrency = int.Parse(Arg("--concurrency", "64"), CultureInfo.InvariantCulture);
Scenarios.Window = TimeSpan.FromSeconds(double.Parse(Arg("--window", "3"), CultureInfo.InvariantCulture));
var output = Arg("--out", "docs/benchmarks");
Directory.CreateDirectory(output);

// Turbine's sessions share ONNX Runtime's global thread pools; the environment that holds them must exist before the
// references create their sessions.
Turbine.Onnx.OnnxThreadBudget.EnsureEnvironment();
if (scenario == "generation")
{
    await Report("generation", await GenerationScenario.RunAsync(
        int.Parse(Arg("--prompt", "32"), CultureInfo.InvariantCulture), int.Parse(Arg("--tokens", "64"), CultureInfo.InvariantCulture), int.Parse(Arg("--rounds", "3"), CultureInfo.InvariantCulture)));
    return;
}

if (scenario == "paging")
{
    await Report("paging", await PagingScenario.RunAsync(
        int.Parse(Arg("--models", "200"), CultureInfo.InvariantCulture), int.Parse(Arg("--resident", "20"), CultureInfo.InvariantCulture), concurrency,
        double.Parse(Arg("--zipf", "1.0"), CultureInfo.InvariantCulture), TimeSpan.FromSeconds(double.Parse(Arg("--warm-up", "5"), CultureInfo.InvariantCulture)), Scenarios.Window));
    return;
}

if (scenario == "optimize")
{
    await Report($"optimize-{modelName}", OptimizationScenario.Run(
        modelName, [.. Arg("--batches", "1,32").Split(',').Select(b => int.Parse(b, CultureInfo.InvariantCulture))],
        TimeSpan.FromSeconds(double.Parse(Arg("--round-seconds", "1"), CultureInfo.InvariantCulture)), int.Parse(Arg("--rounds", "5"), CultureInfo.InvariantCulture), output));
    return;
}

using var model = BenchModel.Create(modelName);
var scenarios = new Scenarios(model, concurrency);
Console.Error.WriteLine($"{scenario}: model {modelName}, concurrency {concurrency}, window {Scenarios.Window.TotalSeconds} s, {Environment.ProcessorCount} cores");
switch (scenario)
{
    case "edge":
        await Report($"edge-{modelName}", await EdgeScenario.RunAsync(
            model, Arg("--edge-binary", "out/edge/turbine-edge"), concurrency, Scenarios.Window, int.Parse(Arg("--rounds", "3"), CultureInfo.InvariantCulture)));
        break;
    case "overload":
        var target = double.Parse(Arg("--target-ms", "100"), CultureInfo.InvariantCulture);
        await Report($"overload-{modelName}", await OverloadScenario.RunAsync(model, scenarios, concurrency, target, Scenarios.Window));
        break;
    case "hot-reload":
        await Report($"hot-reload-{modelName}", await LifecycleScenarios.HotReloadAsync(
            model, scenarios, concurrency, Scenarios.Window, int.Parse(Arg("--rounds", "5"), CultureInfo.InvariantCulture),
            TimeSpan.FromMilliseconds(double.Parse(Arg("--reload-pause-ms", "0"), CultureInfo.InvariantCulture))));
        break;
    case "route":
        model.Configure(Settings());
        await Report($"route-{modelName}", await RouteScenario.RunAsync(
            model, scenarios, concurrency, Scenarios.Window, int.Parse(Arg("--rounds", "5"), CultureInfo.InvariantCulture),
            double.Parse(Arg("--shadow-share", "0.1"), CultureInfo.InvariantCulture)));
        break;
    case "lane":
        model.Configure(Settings());
        await Report($"lane-{modelName}", await LaneScenario.RunAsync(
            model, scenarios, concurrency, int.Parse(Arg("--background", "32"), CultureInfo.InvariantCulture), Scenarios.Window,
            int.Parse(Arg("--rounds", "5"), CultureInfo.InvariantCulture)));
        break;
    case "lifecycle-storm":
        await Report($"lifecycle-storm-{modelName}", await LifecycleScenarios.StormAsync(
            model, scenarios, int.Parse(Arg("--threads", "32"), CultureInfo.InvariantCulture), int.Parse(Arg("--operations", "1024"), CultureInfo.InvariantCulture)));
        break;
    case "batch":
        await Report($"batch-{modelName}", await BatchScenario.RunAsync(
            model, scenarios, int.Parse(Arg("--rows", "20000"), CultureInfo.InvariantCulture), int.Parse(Arg("--batch", "32"), CultureInfo.InvariantCulture),
            concurrency, Scenarios.Window, int.Parse(Arg("--rounds", "5"), CultureInfo.InvariantCulture)));
        break;
    case "monitoring":
        await Report($"monitoring-{modelName}", await MonitoringScenario.RunAsync(
            model, scenarios, concurrency, Scenarios.Window, int.Parse(Arg("--rounds", "5"), CultureInfo.InvariantCulture)));
        break;
    case "autoscale-check":
        model.Configure(Settings());
        await Report($"autoscale-check-{modelName}", await AutoscaleCheckScenario.RunAsync(
            model, int.Parse(Arg("--servers", "2"), CultureInfo.InvariantCulture), Scenarios.Window));
        break;
    case "cross-check":
        model.Configure(Settings());
        await Report($"cross-check-{modelName}", await CrossCheck.RunAsync(model, scenarios, concurrency, Scenarios.Window));
        break;
    default:
        model.Configure(Settings());
        await CompareAsync();
        break;
}

async Task CompareAsync()
{
    var only = Arg("--only", "");
    // The references always run, so that ratios stay side by side in one run.
    var all = new (string Key, Func<Task<LoadResult>> Run)[]
    {
        ("ort", () => scenarios.OnnxRuntimeBatchAsync(rows: 1, concurrency)),
        ("ort32", () => scenarios.OnnxRuntimeBatchAsync(rows: 32, callers: 1)),
        ("ort32x2", () => scenarios.OnnxRuntimeBatchAsync(rows: 32, callers: 2)),
        ("kestrel", scenarios.KestrelConstantAsync),
        ("grpc-constant", scenarios.GrpcConstantAsync),
        ("naive", scenarios.NaiveAspNetAsync),
        ("rest", scenarios.TurbineRestAsync),
        ("binary", scenarios.TurbineRestBinaryAsync),
        ("grpc", scenarios.TurbineGrpcAsync),
    };
    var references = new[] { "ort", "ort32", "ort32x2", "kestrel", "grpc-constant", "naive" };
    var results = new Dictionary<string, LoadResult>();
    foreach (var (key, run) in all)
    {
        if (only.Length == 0 || only.Split(',').Contains(key) || references.Contains(key))
        {
            results[key] = await run();
        }
    }

    var table = new StringBuilder();
    table.AppendLine(CultureInfo.InvariantCulture, $"model `{modelName}` (input {string.Join("x", model.Shape)}), {concurrency} concurrent callers, {Environment.ProcessorCount} cores, {TimeProvider.System.GetUtcNow():yyyy-MM-dd}");
    table.AppendLine();
    table.AppendLine("| scenario | req/s | p50 ms | p90 ms | p99 ms | errors | vs naive | vs ORT batch 1 | vs ORT batch 32 (best) | vs Kestrel constant | vs gRPC constant |");
    table.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    var best32 = Math.Max(results["ort32"].RequestsPerSecond, results["ort32x2"].RequestsPerSecond);
    foreach (var r in results.Values)
    {
        table.AppendLine(CultureInfo.InvariantCulture,
            $"| {r.Scenario} | {r.RequestsPerSecond:F0} | {r.P50Ms:F2} | {r.P90Ms:F2} | {r.P99Ms:F2} | {r.Errors} | {Ratio(r, results["naive"].RequestsPerSecond)} | {Ratio(r, results["ort"].RequestsPerSecond)} | {Ratio(r, best32)} | {Ratio(r, results["kestrel"].RequestsPerSecond)} | {Ratio(r, results["grpc-constant"].RequestsPerSecond)} |");
    }

    await Report(modelName, table.ToString());
    await File.WriteAllTextAsync(Path.Combine(output, $"{modelName}.svg"), BarChart.Render($"{modelName}: requests per second ({concurrency} callers)", [.. results.Values]));
}

List<string> Settings()
{
    var settings = new List<string>();
    if (Arg("--instances", "") is { Length: > 0 } instances)
    {
        settings.Add($$"""  "instance_group": [ { "count": {{instances}} } ]""");
    }

    if (Arg("--intra-op-threads", "") is { Length: > 0 } threads)
    {
        // A pool of the model's own instead of the process's shared budget (docs/OPERATIONS.md, "Memory and threads").
        settings.Add($$"""  "onnxruntime": { "intra_op_threads": {{threads}} }""");
    }

    if (Arg("--batching-delay-us", "") is { Length: > 0 } delay)
    {
        settings.Add($$"""  "dynamic_batching": { "max_queue_delay_microseconds": {{delay}} }""");
    }

    return settings;
}

async Task Report(string name, string markdown)
{
    Console.WriteLine(markdown);
    await File.WriteAllTextAsync(Path.Combine(output, $"{name}.md"), markdown);
}

static string Ratio(LoadResult result, double reference) => (result.RequestsPerSecond / reference).ToString("F2", CultureInfo.InvariantCulture) + "x";

string Arg(string name, string fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
}
