using System.Globalization;
using System.Text;
using Turbine.Cli.Bench;
using Turbine.Client;
using Turbine.Server.Hosting;

namespace Turbine.Bench;

/// <summary>
/// The cost of a route: the same load over gRPC against the model called directly, against a route that splits 50/50
/// between it and a copy of it, and against a route that mirrors a share of its requests to the copy as a shadow, in
/// alternating windows (issue 5's target: under 5% throughput lost).
/// </summary>
internal static class RouteScenario
{
    public static async Task<string> RunAsync(BenchModel model, Scenarios scenarios, int concurrency, TimeSpan window, int rounds, double shadowShare)
    {
        var copy = model.Name + "_copy";
        CopyDirectory(Path.Combine(model.Repository, model.Name), Path.Combine(model.Repository, copy));
        await using var server = await scenarios.StartTurbineAsync(configure: options => options.Management.Enabled = true);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.HttpPort}/") };
        await new TurbineHttpClient(http).SetRouteAsync("split", $$"""{"variants":[{"model":"{{model.Name}}","weight":50},{"model":"{{copy}}","weight":50}]}""");
        var share = shadowShare.ToString(CultureInfo.InvariantCulture);
        await new TurbineHttpClient(http).SetRouteAsync("shadowed", $$$"""{"variants":[{"model":"{{{model.Name}}}"}],"shadow":{"model":"{{{copy}}}","share":{{{share}}}}}""");
        using var client = new TurbineGrpcClient(new Uri($"http://127.0.0.1:{server.GrpcPort}/"));
        Func<int, Task> Caller(string name)
        {
            var request = new InferenceRequest { ModelName = name };
            request.Inputs.Add(Tensor.FromArray(model.InputName, model.Shape, model.Input.AsSpan()));
            return async _ =>
            {
                using var response = await client.InferAsync(request);
            };
        }

        var direct = Caller(model.Name);
        var routed = Caller("split");
        var shadowed = Caller("shadowed");
        await LoadGenerator.ClosedLoopAsync(concurrency, TimeSpan.FromSeconds(3), direct);
        await LoadGenerator.ClosedLoopAsync(concurrency, TimeSpan.FromSeconds(3), routed);
        var directWindows = new List<WindowResult>();
        var routedWindows = new List<WindowResult>();
        var shadowedWindows = new List<WindowResult>();
        for (var round = 0; round < rounds; round++)
        {
            Console.Error.WriteLine($"  round {round + 1}/{rounds}");
            directWindows.Add(await LoadGenerator.ClosedLoopAsync(concurrency, window, direct));
            routedWindows.Add(await LoadGenerator.ClosedLoopAsync(concurrency, window, routed));
            shadowedWindows.Add(await LoadGenerator.ClosedLoopAsync(concurrency, window, shadowed));
        }

        var directRate = Medians.Of(directWindows.Select(w => w.Throughput));
        var routedRate = Medians.Of(routedWindows.Select(w => w.Throughput));
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"model `{model.Name}` over gRPC, {concurrency} clients; route `split` = 50% `{model.Name}` + 50% `{copy}`; {rounds} alternating rounds of {window.TotalSeconds} s; medians; {Environment.ProcessorCount} cores, {TimeProvider.System.GetUtcNow():yyyy-MM-dd}");
        text.AppendLine();
        text.AppendLine("| called | req/s | p50 ms | p99 ms | errors |");
        text.AppendLine("|---|---:|---:|---:|---:|");
        text.AppendLine(CultureInfo.InvariantCulture, $"| the model directly | {directRate:F0} | {Medians.Of(directWindows.Select(w => w.P50Ms)):F2} | {Medians.Of(directWindows.Select(w => w.P99Ms)):F2} | {directWindows.Sum(w => w.Errors)} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| the route (50/50 split) | {routedRate:F0} | {Medians.Of(routedWindows.Select(w => w.P50Ms)):F2} | {Medians.Of(routedWindows.Select(w => w.P99Ms)):F2} | {routedWindows.Sum(w => w.Errors)} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| the model through a route mirroring {shadowShare:P0} to a shadow | {Medians.Of(shadowedWindows.Select(w => w.Throughput)):F0} | {Medians.Of(shadowedWindows.Select(w => w.P50Ms)):F2} | {Medians.Of(shadowedWindows.Select(w => w.P99Ms)):F2} | {shadowedWindows.Sum(w => w.Errors)} |");
        text.AppendLine();
        var shadowRatio = Medians.Of(directWindows.Zip(shadowedWindows, (d, r) => r.Throughput / d.Throughput));
        text.AppendLine(CultureInfo.InvariantCulture, $"throughput with the shadow, median of the per-round ratios: **{shadowRatio:F3}x** of direct ({(1 - shadowRatio) * 100:F1}% lost; target under 5%)");
        text.AppendLine();
        // Each round pairs two neighbouring windows, so the median of the per-round ratios cancels most of the drift.
        var ratio = Medians.Of(directWindows.Zip(routedWindows, (d, r) => r.Throughput / d.Throughput));
        text.AppendLine(CultureInfo.InvariantCulture, $"throughput through the route, median of the per-round ratios: **{ratio:F3}x** of direct ({(1 - ratio) * 100:F1}% lost; target under 5%)");
        return text.ToString();
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }
}
