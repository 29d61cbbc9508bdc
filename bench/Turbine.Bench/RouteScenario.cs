using System.Globalization;
using System.Text;
using Turbine.Cli.Bench;
using Turbine.Client;
using Turbine.Server.Hosting;

namespace Turbine.Bench;

/// <summary>
/// The cost of traffic management: the same load over gRPC against the model called directly, a route that splits
/// 50/50 between it and a copy, a route that mirrors a share of its requests to the copy as a shadow, a route in a
/// canary rollout (its gates counting every request), and a one-step pipeline, in alternating windows (issue 5's
/// target: under 5% throughput lost through a split and a shadow).
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
        await new TurbineHttpClient(http).SetRouteAsync("shadowed_always", $$$"""{"variants":[{"model":"{{{model.Name}}}"}],"shadow":{"model":"{{{copy}}}","share":{{{share}}},"max_cpu":1}}""");
        await new TurbineHttpClient(http).SetRouteAsync("canaried", $$$"""
            {"variants":[{"model":"{{{model.Name}}}"},{"model":"{{{copy}}}"}],
             "canary":{"steps":[50,100],"min_step_duration_s":86400,"min_step_requests":1000000000,"max_error_rate":0.01,"max_p99_ms":1000}}
            """);
        await new TurbineHttpClient(http).SetPipelineAsync("piped", $$$"""
            {"steps":[{"name":"only","model":"{{{model.Name}}}","input_map":{"{{{model.InputName}}}":"x"},"output_map":{"{{{model.OutputName}}}":"y"}}]}
            """);
        using var client = new TurbineGrpcClient(new Uri($"http://127.0.0.1:{server.GrpcPort}/"));
        Func<int, Task> Caller(string name, string input) => ArmRounds.GrpcCaller(client, model, name, input);

        // The first arm is the reference; each round runs every arm once, in neighbouring windows.
        var arms = new (string Label, Func<int, Task> Call)[]
        {
            ("the model directly", Caller(model.Name, model.InputName)),
            ("a route splitting 50/50 with a copy", Caller("split", model.InputName)),
            ($"a route mirroring {shadowShare:P0} to a shadow (shed over 90% CPU, the default)", Caller("shadowed", model.InputName)),
            ($"a route mirroring {shadowShare:P0} to a shadow, never shed (max_cpu 1)", Caller("shadowed_always", model.InputName)),
            ("a route in a canary rollout at 50% (gates counting)", Caller("canaried", model.InputName)),
            ("a one-step pipeline", Caller("piped", "x")),
        };
        var windows = await ArmRounds.RunAsync([.. arms.Select(a => a.Call)], concurrency, window, rounds);

        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"model `{model.Name}` over gRPC, {concurrency} clients; `{copy}` is a copy of it; {rounds} alternating rounds of {window.TotalSeconds} s; medians; {Environment.ProcessorCount} cores, {TimeProvider.System.GetUtcNow():yyyy-MM-dd}");
        text.AppendLine();
        ArmRounds.AppendTable(text, "called", "direct", [.. arms.Select(a => a.Label)], windows);

        text.AppendLine();
        foreach (var name in new[] { "shadowed", "shadowed_always" })
        {
            var shadow = (await new TurbineHttpClient(http).GetRouteReportAsync(name)).Shadow!;
            text.AppendLine(CultureInfo.InvariantCulture, $"route `{name}`: {shadow.Mirrored} mirrored, {shadow.Shed} shed, {shadow.Dropped} dropped");
        }

        text.AppendLine();
        text.AppendLine("target (issue 5): under 5% lost through a route with a split and with a shadow; the load generator runs in the same process, so its CPU counts toward the shedding threshold");
        return text.ToString();
    }

    internal static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }
}
