using System.Diagnostics;
using System.Globalization;
using System.Text;
using Turbine.Cli.Bench;
using Turbine.Client;
using Turbine.Onnx.Tools;
using Turbine.Server.Hosting;

namespace Turbine.Bench;

/// <summary>
/// Model lifecycle under load. <c>hot-reload</c>: p99 of one model while another, larger model is reloaded (loaded,
/// warmed, swapped, drained) in a loop, against the same p99 without reloads, in alternating windows.
/// <c>lifecycle-storm</c>: 32 threads x 1024 load/unload calls on one model while clients infer it (SECURITY.md F8 at
/// full size; the test suite runs a smaller count).
/// </summary>
internal static class LifecycleScenarios
{
    private const string Reloaded = "reloaded";

    public static async Task<string> HotReloadAsync(BenchModel model, Scenarios scenarios, int concurrency, TimeSpan window, int rounds, TimeSpan pause)
    {
        // The reloaded model: 1024 -> 4096 -> 1024 (33 MB of weights), warmed with 8 batches of 32 rows per load.
        var folder = Path.Combine(model.Repository, Reloaded, "1");
        Directory.CreateDirectory(folder);
        var file = Path.Combine(folder, "model.onnx");
        await File.WriteAllBytesAsync(file, SampleModels.Mlp(inputs: 1024, hidden: 4096, classes: 1024));
        await File.WriteAllTextAsync(Path.Combine(model.Repository, Reloaded, "config.json"), """
            { "max_batch_size": 32, "model_warmup": [ { "name": "rows", "batch_size": 32, "count": 8,
              "inputs": { "features": { "data_type": "TYPE_FP32", "dims": [1024], "random_data": true } } } ] }
            """);
        await using var target = await Target.StartAsync(model, scenarios);
        var (management, client, request) = (target.Management, target.Grpc, target.Request);
        async Task CallAsync(int _)
        {
            using var response = await client.InferAsync(request);
        }

        await LoadGenerator.ClosedLoopAsync(concurrency, TimeSpan.FromSeconds(3), CallAsync); // warm-up
        var quiet = new List<WindowResult>();
        var reloading = new List<WindowResult>();
        var reloads = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            Console.Error.WriteLine($"  round {round + 1}/{rounds}");
            quiet.Add(await LoadGenerator.ClosedLoopAsync(concurrency, window, CallAsync));
            using var stop = new CancellationTokenSource();
            var loop = ReloadLoopAsync(management, file, pause, stop.Token);
            reloading.Add(await LoadGenerator.ClosedLoopAsync(concurrency, window, CallAsync));
            await stop.CancelAsync();
            reloads.Add(await loop / window.TotalSeconds);
        }

        var quietP99 = Medians.Of(quiet.Select(w => w.P99Ms));
        var reloadP99 = Medians.Of(reloading.Select(w => w.P99Ms));
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"served model `{model.Name}` over gRPC, {concurrency} clients; reloaded model 1024-4096-1024 MLP (33 MB) with 8 warm-up batches; {rounds} alternating rounds of {window.TotalSeconds} s; {(pause > TimeSpan.Zero ? $"{pause.TotalMilliseconds} ms pause between reloads" : "reloads back to back")}; medians; {Environment.ProcessorCount} cores, {TimeProvider.System.GetUtcNow():yyyy-MM-dd}");
        text.AppendLine();
        text.AppendLine("| windows | req/s | p50 ms | p99 ms | errors | reloads/s |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|");
        text.AppendLine(CultureInfo.InvariantCulture, $"| no reloads | {Medians.Of(quiet.Select(w => w.Throughput)):F0} | {Medians.Of(quiet.Select(w => w.P50Ms)):F2} | {quietP99:F2} | {quiet.Sum(w => w.Errors)} | - |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| reload loop | {Medians.Of(reloading.Select(w => w.Throughput)):F0} | {Medians.Of(reloading.Select(w => w.P50Ms)):F2} | {reloadP99:F2} | {reloading.Sum(w => w.Errors)} | {Medians.Of(reloads):F2} |");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"p99 ratio (reload loop / no reloads): **{reloadP99 / quietP99:F2}x** (target at most 1.5x)");
        return text.ToString();
    }

    public static async Task<string> StormAsync(BenchModel model, Scenarios scenarios, int threads, int operations)
    {
        await using var target = await Target.StartAsync(model, scenarios);
        var (client, grpc, request) = (target.Management, target.Grpc, target.Request);
        var outcomes = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        using var stop = new CancellationTokenSource();
        var inference = Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var response = await grpc.InferAsync(request);
                    outcomes.AddOrUpdate("infer OK", 1, (_, n) => n + 1);
                }
                catch (TurbineClientException e)
                {
                    outcomes.AddOrUpdate($"infer {e.Code}", 1, (_, n) => n + 1);
                }
            }
        })));

        var clock = Stopwatch.StartNew();
        var progress = 0;
        await Task.WhenAll(Enumerable.Range(0, threads).Select(thread => Task.Run(async () =>
        {
            for (var i = 0; i < operations; i++)
            {
                var load = (thread + i) % 2 == 0;
                try
                {
                    await (load ? client.LoadModelAsync(model.Name) : client.UnloadModelAsync(model.Name));
                    outcomes.AddOrUpdate(load ? "load OK" : "unload OK", 1, (_, n) => n + 1);
                }
                catch (TurbineClientException e)
                {
                    outcomes.AddOrUpdate($"{(load ? "load" : "unload")} {e.Code}", 1, (_, n) => n + 1);
                }

                if (Interlocked.Increment(ref progress) % 2048 == 0)
                {
                    Console.Error.WriteLine($"  {progress}/{threads * operations} load/unload calls, {clock.Elapsed.TotalSeconds:F0} s");
                }
            }
        })));
        var stormSeconds = clock.Elapsed.TotalSeconds;
        await client.LoadModelAsync(model.Name);
        await stop.CancelAsync();
        await inference;
        using var last = await grpc.InferAsync(request);

        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"model `{model.Name}`, {threads} threads x {operations} load/unload calls over REST while 4 gRPC clients infer; {Environment.ProcessorCount} cores, {TimeProvider.System.GetUtcNow():yyyy-MM-dd}");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"{threads * operations} calls in {stormSeconds:F1} s ({threads * operations / stormSeconds:F0} calls/s); after the storm a final load serves version {last.ModelVersion}.");
        text.AppendLine();
        text.AppendLine("| outcome | count |");
        text.AppendLine("|---|---:|");
        foreach (var (outcome, count) in outcomes.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {outcome} | {count} |");
        }

        return text.ToString();
    }

    /// <summary>Reloads the model again and again (a new write time makes each load a real reload); returns how many finished.</summary>
    private static async Task<int> ReloadLoopAsync(TurbineHttpClient client, string file, TimeSpan pause, CancellationToken stop)
    {
        var count = 0;
        while (!stop.IsCancellationRequested)
        {
            File.SetLastWriteTimeUtc(file, TimeProvider.System.GetUtcNow().UtcDateTime);
            await client.LoadModelAsync(Reloaded, CancellationToken.None);
            count++;
            if (pause > TimeSpan.Zero)
            {
                await Task.Delay(pause, CancellationToken.None);
            }
        }

        return count;
    }

    /// <summary>A server in explicit mode with the repository API on, a REST client for it, and a gRPC client with the model's request.</summary>
    private sealed class Target : IAsyncDisposable
    {
        private readonly TurbineServer _server;
        private readonly HttpClient _http;

        private Target(TurbineServer server, BenchModel model)
        {
            _server = server;
            _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.HttpPort}/") };
            Management = new TurbineHttpClient(_http);
            Grpc = new TurbineGrpcClient(new Uri($"http://127.0.0.1:{server.GrpcPort}/"));
            Request = new InferenceRequest { ModelName = model.Name };
            Request.Inputs.Add(Tensor.FromArray(model.InputName, model.Shape, model.Input.AsSpan()));
        }

        public TurbineHttpClient Management { get; }

        public TurbineGrpcClient Grpc { get; }

        public InferenceRequest Request { get; }

        public static async Task<Target> StartAsync(BenchModel model, Scenarios scenarios) =>
            new(await scenarios.StartTurbineAsync(configure: options =>
            {
                options.Management.Enabled = true;
                options.ModelControlMode = ModelControlMode.Explicit;
                options.LoadModels = ["*"];
            }), model);

        public async ValueTask DisposeAsync()
        {
            Request.Dispose();
            Grpc.Dispose();
            _http.Dispose();
            await _server.DisposeAsync();
        }
    }
}
