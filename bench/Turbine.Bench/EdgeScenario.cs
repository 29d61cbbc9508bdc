using System.Globalization;
using System.Text;
using Turbine.Cli.Bench;

namespace Turbine.Bench;

/// <summary>
/// Issue 21's energy proxy: CPU-seconds the server process spends per 1,000 inferences (user + system, from
/// /proc), with throughput, latency, threads and RSS under load, for the published <c>turbine-edge</c> at one and two
/// compute threads against <c>turbine serve</c>, all over REST JSON on the same model, in alternating rounds.
/// </summary>
internal static class EdgeScenario
{
    public static async Task<string> RunAsync(BenchModel model, string edgeBinary, int concurrency, TimeSpan window, int rounds)
    {
        var variants = new (string Name, Func<Task<ServerProcess>> Start)[]
        {
            ("turbine-edge --threads 1", () => ServerProcess.StartEdgeAsync(edgeBinary, model.Repository, 1)),
            ("turbine-edge --threads 2", () => ServerProcess.StartEdgeAsync(edgeBinary, model.Repository, 2)),
            ("turbine serve", () => ServerProcess.StartAsync(model.Repository, core: null)),
        };
        var body = Body(model);
        var results = variants.ToDictionary(v => v.Name, _ => new List<(WindowResult Load, double CpuPerThousand, long Rss, int Threads)>());
        using var http = new HttpClient();
        for (var round = 0; round < rounds; round++)
        {
            foreach (var (name, start) in variants)
            {
                await using var server = await start();
                var url = new Uri($"http://127.0.0.1:{server.HttpPort}/v2/models/{model.Name}/infer");
                async Task CallAsync(int caller)
                {
                    using var content = new StringContent(body, Encoding.UTF8, "application/json");
                    using var response = await http.PostAsync(url, content);
                    response.EnsureSuccessStatusCode();
                }

                await LoadGenerator.ClosedLoopAsync(concurrency, TimeSpan.FromSeconds(2), CallAsync);
                var before = server.CpuSeconds();
                var load = await LoadGenerator.ClosedLoopAsync(concurrency, window, CallAsync);
                var cpu = server.CpuSeconds() - before;
                var (rss, threads) = server.Footprint();
                results[name].Add((load, cpu / load.Requests * 1000, rss, threads));
                Console.Error.WriteLine($"  round {round + 1} {name}: {load.Throughput:F0} req/s, {cpu / load.Requests * 1000:F3} CPU-s per 1000, {rss >> 20} MB, {threads} threads");
            }
        }

        var table = new StringBuilder();
        table.AppendLine(CultureInfo.InvariantCulture, $"Model {model.Name}, {concurrency} REST JSON callers, {window.TotalSeconds:F0} s windows, medians of {rounds} rounds, {Environment.ProcessorCount} cores (the load generator shares them).");
        table.AppendLine();
        table.AppendLine("| server | req/s | p50 ms | p99 ms | CPU-s per 1,000 inferences | RSS under load | threads under load |");
        table.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var (name, runs) in results)
        {
            table.AppendLine(CultureInfo.InvariantCulture,
                $"| {name} | {Medians.Of(runs.Select(r => r.Load.Throughput)):F0} | {Medians.Of(runs.Select(r => r.Load.P50Ms)):F2} | {Medians.Of(runs.Select(r => r.Load.P99Ms)):F2} | {Medians.Of(runs.Select(r => r.CpuPerThousand)):F3} | {Medians.Of(runs.Select(r => (double)r.Rss)) / (1 << 20):F0} MB | {Medians.Of(runs.Select(r => (double)r.Threads)):F0} |");
        }

        return table.ToString();
    }

    private static string Body(BenchModel model) =>
        $$"""{"inputs":[{"name":"{{model.InputName}}","shape":[{{string.Join(",", model.Shape)}}],"datatype":"FP32","data":[{{string.Join(",", model.Input.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}}]}]}""";
}
