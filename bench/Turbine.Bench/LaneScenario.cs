using System.Globalization;
using System.Text;
using Turbine.Cli.Bench;
using Turbine.Client;

namespace Turbine.Bench;

/// <summary>
/// The background lane under load: online clients over gRPC alone, then the same online clients while background
/// clients (the <c>turbine_lane</c> parameter) keep the model's background lane full, in alternating rounds (issue
/// 11's target: online p99 with the background load at most 1.2x the online p99 without it).
/// </summary>
internal static class LaneScenario
{
    public static async Task<string> RunAsync(BenchModel model, Scenarios scenarios, int onlineClients, int backgroundClients, TimeSpan window, int rounds)
    {
        await using var server = await scenarios.StartTurbineAsync();
        using var client = new TurbineGrpcClient(new Uri($"http://127.0.0.1:{server.GrpcPort}/"));
        Func<int, Task> Caller(bool background)
        {
            var request = new InferenceRequest { ModelName = model.Name };
            request.Inputs.Add(Tensor.FromArray(model.InputName, model.Shape, model.Input.AsSpan()));
            if (background)
            {
                request.Parameters = new Dictionary<string, object> { ["turbine_lane"] = "background" };
            }

            return async _ =>
            {
                using var response = await client.InferAsync(request);
            };
        }

        var online = Caller(background: false);
        var background = Caller(background: true);
        await LoadGenerator.ClosedLoopAsync(onlineClients, TimeSpan.FromSeconds(2), online);
        await LoadGenerator.ClosedLoopAsync(backgroundClients, TimeSpan.FromSeconds(2), background);

        var quiet = new List<WindowResult>();
        var loaded = new List<WindowResult>();
        var bulk = new List<WindowResult>();
        for (var round = 0; round < rounds; round++)
        {
            Console.Error.WriteLine($"  round {round + 1}/{rounds}");
            quiet.Add(await LoadGenerator.ClosedLoopAsync(onlineClients, window, online));

            // The background load starts first and outlasts the online window on both sides.
            var load = LoadGenerator.ClosedLoopAsync(backgroundClients, window + TimeSpan.FromSeconds(2), background);
            await Task.Delay(TimeSpan.FromSeconds(1));
            loaded.Add(await LoadGenerator.ClosedLoopAsync(onlineClients, window, online));
            bulk.Add(await load);
        }

        var ratio = Medians.Of(quiet.Zip(loaded, (q, l) => l.P99Ms / q.P99Ms));
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"model `{model.Name}` over gRPC, {onlineClients} online clients, {backgroundClients} background clients; {rounds} alternating rounds of {window.TotalSeconds} s; medians; {Environment.ProcessorCount} cores, {TimeProvider.System.GetUtcNow():yyyy-MM-dd}");
        text.AppendLine();
        text.AppendLine("| online traffic | req/s | p50 ms | p99 ms | errors |");
        text.AppendLine("|---|---:|---:|---:|---:|");
        text.AppendLine(CultureInfo.InvariantCulture, $"| alone | {Medians.Of(quiet.Select(w => w.Throughput)):F0} | {Medians.Of(quiet.Select(w => w.P50Ms)):F2} | {Medians.Of(quiet.Select(w => w.P99Ms)):F2} | {quiet.Sum(w => w.Errors)} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| with the background load | {Medians.Of(loaded.Select(w => w.Throughput)):F0} | {Medians.Of(loaded.Select(w => w.P50Ms)):F2} | {Medians.Of(loaded.Select(w => w.P99Ms)):F2} | {loaded.Sum(w => w.Errors)} |");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"background lane meanwhile: {Medians.Of(bulk.Select(w => w.Throughput)):F0} req/s, {bulk.Sum(w => w.Errors)} refused (its queue full) or failed");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"online p99 with / without the background load (median of per-round ratios): **{ratio:F2}x**; target (issue 11): at most 1.2x");
        return text.ToString();
    }
}
