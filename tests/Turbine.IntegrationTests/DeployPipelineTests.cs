using Turbine.Client;
using Turbine.Onnx.Tools;
using Turbine.Registry;
using Turbine.Server.Registry;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>
/// <c>turbine deploy</c> against a real server that follows <c>simple@champion</c>, with clients calling a route: a good
/// candidate passes validate, scan, benchmark and a canary and is promoted without a failed request; a candidate built
/// to fail the canary's p99 gate is rolled back by it, the alias stays, and the reasons are in the registry.
/// </summary>
public sealed class DeployPipelineTests : IAsyncDisposable
{
    private const string Route = "simple-api";
    private readonly FolderServer _server = new();
    private readonly TestRepository _sources = new();

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _sources.Dispose();
    }

    private string RegistryFolder => Path.Combine(_sources.Root, "registry");

    [Fact]
    public async Task A_good_candidate_is_promoted_and_a_slow_one_is_rolled_back_by_its_gate_with_the_reasons_recorded()
    {
        var registry = await RegistryDatabases.OpenAsync(RegistryFolder, null, null, TimeProvider.System, default);
        await PushAsync(registry, "v1", SampleModels.AddSub(DataType.Int32, 4));
        await PushAsync(registry, "v2", SampleModels.AddSub(DataType.Int32, 4));
        await PushAsync(registry, "v3", SlowAddSub());
        await registry.MoveAliasAsync("simple", "champion", 1, "alice", "first release", default);
        _server.Configuration.AddRange(["--Turbine:Registry:Folder=" + RegistryFolder, "--Turbine:Registry:Follow:0=simple@champion", "--Turbine:Registry:PollInterval=00:00:00.100"]);
        await _server.StartAsync();
        var client = new TurbineHttpClient(_server.Http);
        await WaitForVersionAsync(client, "1");
        await client.SetRouteAsync(Route, """{ "variants": [ { "model": "simple" } ] }""");
        using var traffic = new SteadyTraffic(client, Route, clients: 3);
        await traffic.WaitForRequestsAsync(30);
        string[] canary = ["--url", $"http://127.0.0.1:{_server.Server.HttpPort}", "--route", Route, "--canary-steps", "50,100", "--canary-min-requests", "20", "--canary-min-step-s", "0.2", "--canary-timeout-s", "60", "--registry", RegistryFolder];

        var good = await CliProcess.RunRawAsync(["deploy", "simple", "--version", "2", "--max-slowdown", "3", "--canary-max-p99-ms", "250", .. canary]); // the same model as version 1: only noise can slow it
        var slow = await CliProcess.RunRawAsync(["deploy", "simple", "--version", "3", "--max-slowdown", "100000", "--canary-max-p99-ms", "2", .. canary]);

        var (succeeded, failures) = await traffic.StopAsync();
        Assert.True(good.ExitCode == 0, good.Output);
        Assert.Contains("deployed simple version 2 as @champion", good.Output, StringComparison.Ordinal);
        Assert.True(slow.ExitCode == DeployExit, slow.Output);
        Assert.Contains("canary     FAIL  rolled back by its gates:", slow.Output, StringComparison.Ordinal);
        Assert.Empty(failures);
        Assert.True(succeeded > 100, $"{succeeded} requests");
        Assert.Equal(2, Assert.Single(await registry.Store.ListAliasesAsync("simple", default)).Version);
        Assert.Equal(["2"], (await client.GetModelMetadataAsync("simple")).Versions);
        Assert.False(await client.IsModelReadyAsync("simple-candidate-3"));
        Assert.Equal(["simple"], (await client.GetRoutesAsync()).Single(r => r.Name == Route).Variants.Select(v => v.Model));
        var promoted = (await registry.Store.ListReportsAsync("simple", 2, default)).Select(r => r.Kind);
        Assert.Equal(["deploy:validate", "deploy:scan", "deploy:benchmark", "deploy:canary", "deploy:promote"], promoted);
        var stages = (await registry.Store.AuditAsync("simple", null, default)).Where(e => e.Kind == AuditKinds.PipelineStage && e.Version == 3).ToList();
        Assert.Equal(["validate", "scan", "benchmark", "canary"], stages.Select(e => e.Alias));
        Assert.StartsWith("failed: rolled back by its gates", stages[^1].Detail, StringComparison.Ordinal);
    }

    private const int DeployExit = 3;

    [Fact]
    public async Task The_optimize_stage_registers_a_kept_candidate_as_a_child_version_which_is_checked_and_promoted()
    {
        var registry = await RegistryDatabases.OpenAsync(RegistryFolder, null, null, TimeProvider.System, default);
        _sources.Add("dense", SampleModels.Mlp(inputs: 64, hidden: 256, classes: 16), """{ "name": "dense", "max_batch_size": 8 }""");
        await registry.PushAsync(new PushRequest("dense", Path.Combine(_sources.Root, "dense", "1"), Path.Combine(_sources.Root, "dense", "config.json"), "ci"), default);
        var data = Path.Combine(_sources.Root, "rows.jsonl");
        File.WriteAllLines(data, Enumerable.Range(0, 16).Select(row => System.Text.Json.JsonSerializer.Serialize(new
        {
            inputs = new[] { new { name = "features", shape = new[] { 1, 64 }, datatype = "FP32", data = Enumerable.Range(0, 64).Select(i => MathF.Sin((row * 64) + i)).ToArray() } },
        })));

        var (exit, output) = await CliProcess.RunRawAsync(
            "deploy", "dense", "--version", "1", "--optimize", "int8", "--data", data, "--optimize-min-speedup", "0", "--max-accuracy-drop", "1",
            "--max-slowdown", "100000", "--registry", RegistryFolder);

        Assert.True(exit == 0, output);
        Assert.Contains("registered as version 2 from 1", output, StringComparison.Ordinal);
        var child = (await registry.Store.GetVersionAsync("dense", 2, default))!;
        Assert.Equal(("1", "int8"), (child.Lineage["parent_version"], child.Lineage["passes"]));
        Assert.Contains(child.Manifest.Files, f => f.Path == "files/optimization-report.json");
        Assert.Equal(2, Assert.Single(await registry.Store.ListAliasesAsync("dense", default)).Version);
        Assert.Equal(["deploy:validate", "deploy:scan", "deploy:optimize"], (await registry.Store.ListReportsAsync("dense", 1, default)).Select(r => r.Kind));
        Assert.Equal(["deploy:benchmark", "deploy:promote"], (await registry.Store.ListReportsAsync("dense", 2, default)).Select(r => r.Kind));
    }

    private async Task PushAsync(ModelRegistry registry, string source, byte[] model)
    {
        _sources.Add(source, model, """{ "name": "simple", "max_batch_size": 8 }""");
        await registry.PushAsync(new PushRequest("simple", Path.Combine(_sources.Root, source, "1"), Path.Combine(_sources.Root, source, "config.json"), "ci"), default);
    }

    /// <summary>The simple model's answers, after a few large matrix products whose result is multiplied by zero: correct and slow.</summary>
    private static byte[] SlowAddSub()
    {
        var random = new Random(5);
        float[] Weights(int count) => [.. Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() - 0.5) * 0.01f)];
        var builder = new OnnxModelBuilder("slow_add_sub")
            .Input("INPUT0", DataType.Int32, -1, 4)
            .Input("INPUT1", DataType.Int32, -1, 4)
            .Initializer("w0", [4, 1024], Weights(4 * 1024))
            .Initializer("zero", [1], [0f])
            .Node("Cast", ["INPUT0"], ["x"], ("to", 1L))
            .Node("MatMul", ["x", "w0"], ["h0"]);
        for (var i = 1; i <= 8; i++)
        {
            builder.Initializer($"w{i}", [1024, 1024], Weights(1024 * 1024)).Node("MatMul", [$"h{i - 1}", $"w{i}"], [$"h{i}"]);
        }

        return builder
            .Node("ReduceSum", ["h8"], ["total"], ("keepdims", 1L))
            .Node("Mul", ["total", "zero"], ["nothing"])
            .Node("Cast", ["nothing"], ["nothing_int"], ("to", 6L))
            .Node("Add", ["INPUT0", "INPUT1"], ["sum"])
            .Node("Add", ["sum", "nothing_int"], ["OUTPUT0"])
            .Node("Sub", ["INPUT0", "INPUT1"], ["OUTPUT1"])
            .Output("OUTPUT0", DataType.Int32, -1, 4)
            .Output("OUTPUT1", DataType.Int32, -1, 4)
            .ToBytes();
    }

    private static async Task WaitForVersionAsync(TurbineHttpClient client, string version)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            try
            {
                if ((await client.GetModelMetadataAsync("simple")).Versions.SequenceEqual([version]))
                {
                    return;
                }
            }
            catch (TurbineClientException)
            {
                // not loaded yet
            }

            await Task.Delay(50);
        }

        Assert.Fail($"version {version} never served");
    }
}
