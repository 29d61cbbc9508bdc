using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Turbine.Cli.Bench;
using Turbine.Client;
using Turbine.Core.Lifecycle;
using Turbine.Onnx.Tools;

namespace Turbine.Bench;

/// <summary>
/// Memory-aware paging (issue 19): a repository of many small models with a budget for a tenth of them, Zipf-distributed
/// traffic over gRPC, once per eviction policy, against every model loaded (no paging) as the reference. A request
/// counts as a hit when its model was loaded as it left the client (the server's own load counter gives the exact hit
/// ratio; the per-request split can misfile the rare request whose model left or arrived in flight).
/// </summary>
internal static class PagingScenario
{
    private const int Features = 64;

    public static async Task<string> RunAsync(int models, int resident, int clients, double exponent, TimeSpan warmUp, TimeSpan window)
    {
        var repository = Path.Combine(Path.GetTempPath(), "turbine-bench-paging", Guid.NewGuid().ToString("N"));
        long modelBytes = 0;
        for (var i = 0; i < models; i++)
        {
            var bytes = SampleModels.Mlp(inputs: Features, hidden: 256, classes: 10, seed: i);
            var folder = Path.Combine(repository, Name(i), "1");
            Directory.CreateDirectory(folder);
            await File.WriteAllBytesAsync(Path.Combine(folder, "model.onnx"), bytes);
            await File.WriteAllTextAsync(Path.Combine(repository, Name(i), "config.json"), """{ "max_batch_size": 8 }""");
            modelBytes = Math.Max(modelBytes, bytes.Length);
        }

        try
        {
            var zipf = new Zipf(models, exponent);
            var rows = new List<string>();
            foreach (var policy in new PagingPolicy?[] { null, PagingPolicy.Lru, PagingPolicy.Lfu })
            {
                Console.Error.WriteLine($"  {(policy is null ? "all loaded" : policy.ToString()!.ToUpperInvariant())}: {warmUp.TotalSeconds} s warm-up, {window.TotalSeconds} s measured");
                rows.Add(await MeasureAsync(repository, models, policy, resident * modelBytes, zipf, clients, warmUp, window));
            }

            var text = new StringBuilder();
            text.AppendLine(CultureInfo.InvariantCulture, $"{models} MLP models ({Features}-256-10, {modelBytes / 1024} KiB each), budget for {resident} ({resident * modelBytes / 1024} KiB), Zipf s={exponent} over the models, {clients} gRPC clients in a closed loop, {warmUp.TotalSeconds} s warm-up then {window.TotalSeconds} s measured; {Environment.ProcessorCount} cores, {TimeProvider.System.GetUtcNow():yyyy-MM-dd}");
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"The best any policy can do with this budget is to keep the {resident} most popular models: a hit ratio of {zipf.Head(resident):P1} (the ideal LFU).");
            text.AppendLine();
            text.AppendLine("| policy | req/s | hit ratio | hits p50 ms | hits p99 ms | misses p50 ms | misses p99 ms | loads | evictions | refusals | mean load ms | errors |");
            text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            rows.ForEach(row => text.AppendLine(row));
            return text.ToString();
        }
        finally
        {
            Directory.Delete(repository, recursive: true);
        }
    }

    private static async Task<string> MeasureAsync(string repository, int models, PagingPolicy? policy, long budget, Zipf zipf, int clients, TimeSpan warmUp, TimeSpan window)
    {
        await using var server = await Scenarios.StartTurbineAsync(repository, configure: options =>
        {
            options.ModelPaging.BudgetBytes = policy is null ? 0 : budget;
            options.ModelPaging.Policy = policy ?? PagingPolicy.Lru;
        });
        var manager = server.Services.GetRequiredService<ModelManager>();
        var pager = server.Services.GetService<ModelPager>();
        using var client = new TurbineGrpcClient(new Uri($"http://127.0.0.1:{server.GrpcPort}/"));
        var requests = Enumerable.Range(0, models).Select(i =>
        {
            var request = new InferenceRequest { ModelName = Name(i) };
            request.Inputs.Add(Tensor.FromArray<float>("features", [1, Features], new float[Features]));
            return request;
        }).ToArray();

        await RunAsync(client, manager, requests, zipf, clients, warmUp);
        var (loads, evictions, refusals) = (pager?.Loads ?? 0, pager?.Evictions ?? 0, pager?.Refusals ?? 0);
        var (loadCount, loadNanoseconds) = LoadTotals(manager);
        var measured = await RunAsync(client, manager, requests, zipf, clients, window);
        loads = (pager?.Loads ?? 0) - loads;
        var (laterCount, laterNanoseconds) = LoadTotals(manager);
        var meanLoad = laterCount > loadCount ? $"{(laterNanoseconds - loadNanoseconds) / 1e6 / (laterCount - loadCount):F2}" : "-";
        foreach (var request in requests)
        {
            request.Dispose();
        }

        var total = measured.Hits.Count + measured.Misses.Count;
        var hitRatio = 1 - (double)loads / total;
        var misses = measured.Misses.Count == 0 ? "-" : $"{Percentile(measured.Misses, 0.50):F2}";
        var missesP99 = measured.Misses.Count == 0 ? "-" : $"{Percentile(measured.Misses, 0.99):F2}";
        return string.Create(CultureInfo.InvariantCulture,
            $"| {(policy is null ? "all loaded (no paging)" : policy.ToString()!.ToUpperInvariant())} | {total / window.TotalSeconds:F0} | {hitRatio:P1} | {Percentile(measured.Hits, 0.50):F2} | {Percentile(measured.Hits, 0.99):F2} | {misses} | {missesP99} | {loads} | {(pager?.Evictions ?? 0) - evictions} | {(pager?.Refusals ?? 0) - refusals} | {meanLoad} | {measured.Errors} |");
    }

    /// <summary>Latencies (ms) of requests whose model was loaded as they left, of those whose model was not, and the failures.</summary>
    private sealed record Outcome(List<double> Hits, List<double> Misses, long Errors);

    private static async Task<Outcome> RunAsync(TurbineGrpcClient client, ModelManager manager, InferenceRequest[] requests, Zipf zipf, int clients, TimeSpan window)
    {
        using var stop = new CancellationTokenSource(window);
        var outcomes = await Task.WhenAll(Enumerable.Range(0, clients).Select(caller => Task.Run(async () =>
        {
            var random = new Random(caller);
            var (hits, misses, errors) = (new List<double>(), new List<double>(), 0L);
            while (!stop.IsCancellationRequested)
            {
                var request = requests[zipf.Sample(random)];
                var loaded = manager.IsLoaded(request.ModelName);
                var started = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await client.InferAsync(request);
                    (loaded ? hits : misses).Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
                catch (TurbineClientException)
                {
                    errors++;
                }
            }

            return new Outcome(hits, misses, errors);
        })));
        return new Outcome([.. outcomes.SelectMany(o => o.Hits)], [.. outcomes.SelectMany(o => o.Misses)], outcomes.Sum(o => o.Errors));
    }

    /// <summary>Loads so far and the time they took, over every model.</summary>
    private static (long Count, long Nanoseconds) LoadTotals(ModelManager manager) =>
        (manager.LoadTimes.Values.Sum(t => t.Count), manager.LoadTimes.Values.Sum(t => t.Nanoseconds));

    private static double Percentile(List<double> values, double quantile)
    {
        values.Sort();
        return values.Count == 0 ? double.NaN : values[Math.Min(values.Count - 1, (int)(quantile * values.Count))];
    }

    private static string Name(int index) => string.Create(CultureInfo.InvariantCulture, $"m{index:D3}");

    /// <summary>Ranks 0..n-1 with probability proportional to 1/(rank+1)^s, drawn by binary search over the cumulative weights.</summary>
    private sealed class Zipf
    {
        private readonly double[] _cumulative;

        public Zipf(int count, double exponent)
        {
            _cumulative = new double[count];
            double sum = 0;
            for (var rank = 0; rank < count; rank++)
            {
                sum += 1 / Math.Pow(rank + 1, exponent);
                _cumulative[rank] = sum;
            }

            for (var rank = 0; rank < count; rank++)
            {
                _cumulative[rank] /= sum;
            }
        }

        /// <summary>The probability mass of the <paramref name="count"/> most popular ranks.</summary>
        public double Head(int count) => _cumulative[count - 1];

        public int Sample(Random random)
        {
            var index = Array.BinarySearch(_cumulative, random.NextDouble());
            return Math.Min(index >= 0 ? index : ~index, _cumulative.Length - 1);
        }
    }
}
