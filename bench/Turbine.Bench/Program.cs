using System.Globalization;
using System.Text;
using Turbine.Bench;
using Turbine.Onnx.Graph;

// Usage: dotnet run -c Release --project bench/Turbine.Bench -- [--model mlp|mlp-medium|resnet18] [--concurrency 8] [--window 3]
//        [--instances N] [--batching-delay-us N] [--only rest,binary,grpc] [--out docs/benchmarks]
// The three references (ORT in-process, Kestrel constant, naive ASP.NET) always run, so ratios stay side by side.
var model = Arg("--model", "mlp");
var concurrency = int.Parse(Arg("--concurrency", "8"), CultureInfo.InvariantCulture);
Scenarios.Window = TimeSpan.FromSeconds(double.Parse(Arg("--window", "3"), CultureInfo.InvariantCulture));
var output = Arg("--out", "docs/benchmarks");
var instances = Arg("--instances", "");
var only = Arg("--only", "");
var batchingDelay = Arg("--batching-delay-us", "");

var repository = Path.Combine(Path.GetTempPath(), "turbine-bench-" + Environment.ProcessId);
var folder = Path.Combine(repository, model, "1");
Directory.CreateDirectory(folder);
var modelPath = Path.Combine(folder, "model.onnx");
string inputName;
long[] shape;
if (model == "resnet18")
{
    var resnet = OnnxModelEditor.Read(Path.Combine(AppContext.BaseDirectory, "demo", "ResNet18.onnx"));
    OnnxModelEditor.MakeDimensionDynamic(resnet);
    OnnxModelEditor.Write(resnet, modelPath);
    (inputName, shape) = ("Input247", [1, 3, 224, 224]);
}
else if (model == "mlp-medium")
{
    File.WriteAllBytes(modelPath, SampleModels.Mlp(inputs: 1024, hidden: 4096, classes: 1024));
    (inputName, shape) = ("features", [1, 1024]);
}
else
{
    File.WriteAllBytes(modelPath, SampleModels.Mlp());
    (inputName, shape) = ("features", [1, 4]);
}

var settings = new List<string>();
if (instances.Length > 0)
{
    settings.Add($$"""  "instance_group": [ { "count": {{instances}} } ]""");
}

if (batchingDelay.Length > 0)
{
    settings.Add($$"""  "dynamic_batching": { "max_queue_delay_microseconds": {{batchingDelay}} }""");
}

if (settings.Count > 0)
{
    File.WriteAllText(Path.Combine(repository, model, "config.json"), "{\n" + string.Join(",\n", settings) + "\n}");
}

var count = (int)shape.Aggregate(1L, (a, b) => a * b);
var random = new Random(1);
var input = Enumerable.Range(0, count).Select(_ => (float)random.NextDouble()).ToArray();
var scenarios = new Scenarios(repository, model, modelPath, inputName, shape, input, concurrency);

Console.Error.WriteLine($"model {model}, concurrency {concurrency}, window {Scenarios.Window.TotalSeconds} s, {Environment.ProcessorCount} cores");
var all = new (string Key, Func<Task<LoadResult>> Run)[]
{
    ("ort", scenarios.OnnxRuntimeInProcessAsync),
    ("kestrel", scenarios.KestrelConstantAsync),
    ("naive", scenarios.NaiveAspNetAsync),
    ("rest", scenarios.TurbineRestAsync),
    ("binary", scenarios.TurbineRestBinaryAsync),
    ("grpc", scenarios.TurbineGrpcAsync),
};
var results = new List<LoadResult>();
foreach (var (key, run) in all)
{
    if (only.Length == 0 || only.Split(',').Contains(key) || key is "ort" or "kestrel" or "naive")
    {
        results.Add(await run());
    }
}

var naive = results[2].RequestsPerSecond;
var ort = results[0].RequestsPerSecond;
var kestrel = results[1].RequestsPerSecond;
var table = new StringBuilder();
table.AppendLine(CultureInfo.InvariantCulture, $"model `{model}` (input {string.Join("x", shape)}), {concurrency} concurrent callers, {Environment.ProcessorCount} cores, {TimeProvider.System.GetUtcNow():yyyy-MM-dd}");
table.AppendLine();
table.AppendLine("| scenario | req/s | p50 ms | p90 ms | p99 ms | errors | vs naive | vs ORT in-process | vs Kestrel constant |");
table.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
foreach (var r in results)
{
    table.AppendLine(CultureInfo.InvariantCulture,
        $"| {r.Scenario} | {r.RequestsPerSecond:F0} | {r.P50Ms:F2} | {r.P90Ms:F2} | {r.P99Ms:F2} | {r.Errors} | {r.RequestsPerSecond / naive:F2}x | {r.RequestsPerSecond / ort:F2}x | {r.RequestsPerSecond / kestrel:F2}x |");
}

Console.WriteLine(table);
Directory.CreateDirectory(output);
await File.WriteAllTextAsync(Path.Combine(output, $"{model}.md"), table.ToString());
await File.WriteAllTextAsync(Path.Combine(output, $"{model}.svg"), BarChart.Render($"{model}: requests per second ({concurrency} callers)", results));
Directory.Delete(repository, recursive: true);

string Arg(string name, string fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
}
