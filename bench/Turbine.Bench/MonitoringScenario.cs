using System.Globalization;
using System.Text;
using Turbine.Cli.Bench;
using Turbine.Client;
using Turbine.Monitoring.Profiles;
using Turbine.Server.Hosting;

namespace Turbine.Bench;

/// <summary>
/// The hot-path cost of monitoring (issue 17's target: at most 5% throughput): the same load over gRPC against a
/// server with monitoring off (no profile, no rules, no cost ledger), one serving a copy of the model with a reference
/// profile, quality rules (a rejecting range on every input element, and the profile's derived rules, flagging) and the
/// cost ledger at the default tap sample rate, and one observing every request, in alternating windows.
/// </summary>
internal static class MonitoringScenario
{
    public static async Task<string> RunAsync(BenchModel model, Scenarios scenarios, int concurrency, TimeSpan window, int rounds)
    {
        var monitored = model.Name + "_monitored";
        var folder = Path.Combine(model.Repository, monitored);
        RouteScenario.CopyDirectory(Path.Combine(model.Repository, model.Name), folder);
        var width = (int)model.Shape[^1];
        File.WriteAllText(Path.Combine(folder, "config.json"), $$"""
            {"max_batch_size": 64, "monitoring": {"probabilities": "{{model.OutputName}}",
             "quality": {"from_profile": "flag", "rules": [{"feature": "{{model.InputName}}", "min": -1000, "max": 1000, "policy": "reject" } ] } } }
            """);
        WriteProfile(model, width, Path.Combine(folder, "1", ReferenceProfile.FileName));

        await using var off = await scenarios.StartTurbineAsync(configure: options => options.Cost.Enabled = false);
        await using var sampled = await scenarios.StartTurbineAsync();
        await using var everything = await scenarios.StartTurbineAsync(configure: options => options.Observer.SampleRate = 1);
        using var offClient = new TurbineGrpcClient(new Uri($"http://127.0.0.1:{off.GrpcPort}/"));
        using var sampledClient = new TurbineGrpcClient(new Uri($"http://127.0.0.1:{sampled.GrpcPort}/"));
        using var everythingClient = new TurbineGrpcClient(new Uri($"http://127.0.0.1:{everything.GrpcPort}/"));
        Func<int, Task> Caller(TurbineGrpcClient client, string name) => ArmRounds.GrpcCaller(client, model, name, model.InputName);

        var arms = new (string Label, Func<int, Task> Call)[]
        {
            ("monitoring off (no profile, no rules, no cost ledger)", Caller(offClient, model.Name)),
            ("monitoring on: profile, quality rules, cost; 10% of requests observed (the default)", Caller(sampledClient, monitored)),
            ("monitoring on: profile, quality rules, cost; every request observed", Caller(everythingClient, monitored)),
        };
        var windows = await ArmRounds.RunAsync([.. arms.Select(a => a.Call)], concurrency, window, rounds, rotate: true);

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{everything.HttpPort}/") };
        var drift = await new TurbineHttpClient(http).GetDriftAsync(monitored);
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"model `{model.Name}` over gRPC, {concurrency} clients, {width} input features; {rounds} rounds of {window.TotalSeconds} s windows, the arms' order rotating; medians; {Environment.ProcessorCount} cores, {TimeProvider.System.GetUtcNow():yyyy-MM-dd}");
        text.AppendLine();
        ArmRounds.AppendTable(text, "server", "off", [.. arms.Select(a => a.Label)], windows);

        var version = drift.Versions[0];
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"the observed server's drift window held {version.Window.Rows} rows over {version.Features.Count} features at the end (judged: {version.Judged})");
        text.AppendLine("target (issue 17): at most 5% throughput lost with drift on the tap and quality checks on");
        return text.ToString();
    }

    /// <summary>A profile of the model's features from values spread like the bench's input, so the derived rules pass.</summary>
    private static void WriteProfile(BenchModel model, int width, string path)
    {
        var config = new ModelConfig
        {
            Name = model.Name + "_monitored",
            MaxBatchSize = 64,
            Inputs = [new TensorConfig(model.InputName, DataType.Fp32, [width])],
            Outputs = [new TensorConfig(model.OutputName, DataType.Fp32, [4])],
        };
        var layout = FeatureLayout.For(config, model.OutputName);
        var builder = new ProfileBuilder(config.Name, layout);
        var random = new Random(3);
        for (var batch = 0; batch < 20; batch++)
        {
            var inputs = new float[64 * width];
            var outputs = new float[64 * 4];
            for (var k = 0; k < inputs.Length; k++)
            {
                inputs[k] = model.Input[k % model.Input.Length] * (float)(0.5 + random.NextDouble());
            }

            for (var k = 0; k < outputs.Length; k++)
            {
                outputs[k] = (float)random.NextDouble() / 4;
            }

            using var input = Tensor.FromArray<float>(model.InputName, [64, width], inputs);
            using var output = Tensor.FromArray<float>(model.OutputName, [64, 4], outputs);
            builder.Add(FeatureTable.Read(layout, [input], [output])!);
        }

        ProfileJson.Save(path, builder.Build(DateTimeOffset.UtcNow));
    }
}
