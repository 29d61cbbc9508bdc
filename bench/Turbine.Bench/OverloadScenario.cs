using System.Globalization;
using System.Text;
using Turbine.Cli.Bench;
using Turbine.Client;

namespace Turbine.Bench;

/// <summary>
/// Twice the sustainable load against a model with a latency target and a queue limit: the admitted requests must
/// keep p99 under the target, and the excess must be refused at once (503), never time out. Load goes over gRPC
/// (one HTTP/2 connection): over HTTP/1.1 an open loop needs a connection per outstanding request, and thousands
/// of them measure the client's socket storm rather than the server. The server's own view, from its request
/// duration histogram, is reported beside the client's.
/// </summary>
internal static class OverloadScenario
{
    public static async Task<string> RunAsync(BenchModel model, Scenarios scenarios, int concurrency, double targetMs, TimeSpan window)
    {
        model.Configure([
            """  "max_batch_size": 32""",
            """  "max_queue_size": 512""",
            $$"""  "dynamic_batching": { "max_latency_ms": {{targetMs.ToString(CultureInfo.InvariantCulture)}} }""",
        ]);
        await using var server = await scenarios.StartTurbineAsync(metrics: true);
        using var client = new TurbineGrpcClient(new Uri($"http://127.0.0.1:{server.GrpcPort}/"));
        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.MetricsPort}/") };
        using var request = new InferenceRequest { ModelName = model.Name };
        request.Inputs.Add(Tensor.FromArray(model.InputName, model.Shape, model.Input.AsSpan()));
        var refusals = new Dictionary<string, int>();
        async Task CallAsync(int _)
        {
            try
            {
                using var response = await client.InferAsync(request);
            }
            catch (TurbineClientException e)
            {
                lock (refusals)
                {
                    refusals[e.Code.ToString()] = refusals.GetValueOrDefault(e.Code.ToString()) + 1;
                }

                throw;
            }
        }

        await LoadGenerator.ClosedLoopAsync(concurrency, TimeSpan.FromSeconds(5), CallAsync); // warm-up, and the cost model learns
        var before = await ServerHistogram.ReadAsync(metrics, model.Name);
        var sustainable = await LoadGenerator.ClosedLoopAsync(concurrency, window, CallAsync);
        var middle = await ServerHistogram.ReadAsync(metrics, model.Name);
        var offered = 2 * sustainable.Throughput;
        refusals.Clear();
        var overloaded = await LoadGenerator.OpenLoopAsync(offered, Arrivals.Poisson, window * 2, CallAsync, new Random(3));
        var after = await ServerHistogram.ReadAsync(metrics, model.Name);

        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"model `{model.Name}`, `max_latency_ms` {targetMs}, `max_queue_size` 512, {Environment.ProcessorCount} cores, {TimeProvider.System.GetUtcNow():yyyy-MM-dd}");
        text.AppendLine();
        text.AppendLine("| load (gRPC) | offered req/s | admitted req/s | admitted p50 ms | admitted p99 ms | server p99 ms (histogram bucket) | refused | refusal p99 ms | refusals by status |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---|");
        Row(text, $"{concurrency} clients, closed loop (sustainable)", double.NaN, sustainable, ServerHistogram.P99Bound(before, middle), "");
        Row(text, "2x sustainable, open loop (Poisson)", offered, overloaded, ServerHistogram.P99Bound(middle, after), string.Join(", ", refusals.Select(r => $"{r.Key} {r.Value}")));
        return text.ToString();
    }

    private static void Row(StringBuilder text, string load, double offered, WindowResult result, string serverP99, string refusals) =>
        text.AppendLine(CultureInfo.InvariantCulture,
            $"| {load} | {(double.IsNaN(offered) ? "-" : offered.ToString("F0", CultureInfo.InvariantCulture))} | {result.Throughput:F0} | {result.P50Ms:F2} | {result.P99Ms:F2} | {serverP99} | {result.Errors} | {(double.IsFinite(result.ErrorP99Ms) ? result.ErrorP99Ms.ToString("F2", CultureInfo.InvariantCulture) : "-")} | {refusals} |");
}
