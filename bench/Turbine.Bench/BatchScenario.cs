using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.ML.OnnxRuntime;
using Parquet;
using Parquet.Schema;
using Parquet.Serialization;
using Turbine.Cli.Bench;
using Turbine.Client;
using Turbine.Server.Hosting;

namespace Turbine.Bench;

/// <summary>
/// Issue 15's two targets, on a server with job workers: (1) a job's rows per second with no online traffic against
/// ONNX Runtime in-process over the same rows at the same batch size (target: at least 0.8x); (2) online p99 while a
/// job runs against online p99 alone, in alternating rounds (target: at most 1.1x). The job reads a Parquet file (a
/// list column of the model's inputs, one row group per partition) and writes JSON lines of each row's label (the
/// MLPs) or features (ResNet18).
/// </summary>
internal static class BatchScenario
{
    public static async Task<string> RunAsync(BenchModel model, Scenarios scenarios, int rows, int batch, int onlineClients, TimeSpan window, int rounds)
    {
        model.Configure([$"  \"max_batch_size\": {batch}"]);
        var jobs = Path.Combine(model.Repository, "_jobs");
        Directory.CreateDirectory(Path.Combine(jobs, "data"));
        var width = (int)model.Shape[^1];
        var data = MakeRows(model, rows);
        await WriteParquetAsync(Path.Combine(jobs, "data", "input.parquet"), data, rowGroup: Math.Max(batch * 16, rows / 8));

        await using var server = await scenarios.StartTurbineAsync(configure: options =>
        {
            options.Jobs.Folder = jobs;
            options.Management.Enabled = true;
            options.Jobs.PollInterval = TimeSpan.FromMilliseconds(20);
        });
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.HttpPort}/") };
        var control = new TurbineHttpClient(http);
        using var grpc = new TurbineGrpcClient(new Uri($"http://127.0.0.1:{server.GrpcPort}/"));
        // What batch scoring keeps of a classifier: its label (the MLPs have one); ResNet18's features otherwise.
        var output = model.Name.StartsWith("mlp", StringComparison.Ordinal) ? "label" : model.OutputName;
        var job = 0;
        async Task<(double RowsPerSecond, BatchJob Job)> JobAsync()
        {
            var id = $"bench-{job++}";
            var watch = Stopwatch.StartNew();
            await control.SubmitJobAsync($$$"""
                {"id": "{{{id}}}", "model": "{{{model.Name}}}", "input": "data/input.parquet", "output": {"uri": "out/{{{id}}}", "format": "jsonl"},
                 "inputs": {"{{{model.InputName}}}": ["features"]}, "outputs": ["{{{output}}}"], "options": {"rows_per_request": {{{batch}}}}}
                """);
            while (true)
            {
                var state = await control.GetJobAsync(id);
                if (state.IsFinal)
                {
                    return state.State == "succeeded" ? (rows / watch.Elapsed.TotalSeconds, state) : throw new InvalidOperationException($"job {id} {state.State}: {state.Reason}");
                }

                await Task.Delay(10);
            }
        }

        // (1) Throughput: the job alone against ONNX Runtime over the same rows in batches of the same size, alternated.
        await JobAsync();
        var reference = new List<double>();
        var throughput = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            Console.Error.WriteLine($"  throughput round {round + 1}/{rounds}");
            reference.Add(OnnxRuntimeRowsPerSecond(model, data, width, batch));
            throughput.Add((await JobAsync()).RowsPerSecond);
        }

        // (2) Online p99 alone, then while a job runs; the job is submitted before the online window and outlasts it.
        var request = new InferenceRequest { ModelName = model.Name };
        request.Inputs.Add(Tensor.FromArray(model.InputName, model.Shape, model.Input.AsSpan()));
        Func<int, Task> online = async _ =>
        {
            using var response = await grpc.InferAsync(request);
        };
        await LoadGenerator.ClosedLoopAsync(onlineClients, TimeSpan.FromSeconds(2), online);
        var quiet = new List<WindowResult>();
        var loaded = new List<WindowResult>();
        var during = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            Console.Error.WriteLine($"  latency round {round + 1}/{rounds}");
            quiet.Add(await LoadGenerator.ClosedLoopAsync(onlineClients, window, online));
            var running = JobAsync();
            await Task.Delay(200);
            loaded.Add(await LoadGenerator.ClosedLoopAsync(onlineClients, window, online));
            during.Add((await running).RowsPerSecond);
        }

        var ratio = Medians.Of(quiet.Zip(loaded, (q, l) => l.P99Ms / q.P99Ms));
        var share = Medians.Of(throughput) / Medians.Of(reference);
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"model `{model.Name}`, {rows:N0} rows from Parquet ({width} values a row), {batch} rows a request, one instance; {rounds} alternating rounds; medians; {Environment.ProcessorCount} cores, {TimeProvider.System.GetUtcNow():yyyy-MM-dd}");
        text.AppendLine();
        text.AppendLine("| run | rows/s | p50 ms | p99 ms | errors |");
        text.AppendLine("|---|---:|---:|---:|---:|");
        text.AppendLine(CultureInfo.InvariantCulture, $"| ONNX Runtime in-process, batch {batch} (reference) | {Medians.Of(reference):F0} | | | |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| batch job, no online traffic (submit to succeeded) | {Medians.Of(throughput):F0} | | | |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| online gRPC, {onlineClients} clients, alone | {Medians.Of(quiet.Select(w => w.Throughput)):F0} | {Medians.Of(quiet.Select(w => w.P50Ms)):F2} | {Medians.Of(quiet.Select(w => w.P99Ms)):F2} | {quiet.Sum(w => w.Errors)} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| online gRPC while a job runs | {Medians.Of(loaded.Select(w => w.Throughput)):F0} | {Medians.Of(loaded.Select(w => w.P50Ms)):F2} | {Medians.Of(loaded.Select(w => w.P99Ms)):F2} | {loaded.Sum(w => w.Errors)} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| the job meanwhile | {Medians.Of(during):F0} | | | |");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"job throughput / ONNX Runtime at the same batch size: **{share:F2}x** (target: at least 0.8x)");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"online p99 while a job runs / alone (median of per-round ratios): **{ratio:F2}x** (target: at most 1.1x)");
        return text.ToString();
    }

    private static float[][] MakeRows(BenchModel model, int rows)
    {
        var random = new Random(3);
        var width = (int)model.Shape[^1];
        return [.. Enumerable.Range(0, rows).Select(_ => Enumerable.Range(0, width).Select(_ => random.NextSingle()).ToArray())];
    }

    private static async Task WriteParquetAsync(string path, float[][] data, int rowGroup)
    {
        var schema = new ParquetSchema(new DataField<long>("id"), new ListField("features", new DataField<float>("element")));
        var rows = data.Select((values, i) => (IDictionary<string, object?>)new Dictionary<string, object?> { ["id"] = (long)i, ["features"] = values.ToList() }).ToList();
        await using var file = File.Create(path);
        await ParquetSerializer.SerializeUntypedAsync(rows, schema, file, new ParquetOptions { RowGroupSize = rowGroup });
    }

    /// <summary>Rows per second of ONNX Runtime over every row, in batches, from tensors made up front: the compute limit.</summary>
    private static double OnnxRuntimeRowsPerSecond(BenchModel model, float[][] data, int width, int batch)
    {
        using var options = new Microsoft.ML.OnnxRuntime.SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        using var session = new InferenceSession(model.Path, options);
        var batches = data.Chunk(batch).Select(rows => (Values: rows.SelectMany(r => r).ToArray(), Rows: rows.Length)).ToList();
        using var runOptions = new RunOptions();
        var watch = Stopwatch.StartNew();
        foreach (var (values, count) in batches)
        {
            using var value = OrtValue.CreateTensorValueFromMemory(values, [count, width]);
            using var results = session.Run(runOptions, [model.InputName], [value], [model.OutputName]);
        }

        return data.Length / watch.Elapsed.TotalSeconds;
    }
}
