using System.Security.Cryptography;
using Turbine.Client;
using Turbine.Onnx.Tools;

namespace Turbine.IntegrationTests;

/// <summary>
/// SECURITY.md F1: <c>turbine serve</c> killed with SIGKILL while it loads leaves the repository as it was, its
/// routing state whole and no temporary files once it starts again; killed in the middle of a canary rollout, it
/// loses no decision.
/// </summary>
public sealed class KillDuringLoadTests : IAsyncDisposable
{
    private readonly FolderServer _server = new();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Kill_9_during_a_load_leaves_the_repository_and_routing_intact()
    {
        const string Config = """
            { "max_batch_size": 256, "version_policy": { "all": {} },
              "model_warmup": [ { "name": "slow", "batch_size": 256, "count": 200,
                "inputs": { "features": { "data_type": "TYPE_FP32", "dims": [256], "random_data": true } } } ] }
            """;
        var model = SampleModels.Mlp(inputs: 256, hidden: 1024, classes: 256);
        _server.Folder.Add("slow", model, Config).Add("slow", model, version: 2);
        var state = Path.Combine(_server.Folder.Root, ".turbine", "versions");
        Directory.CreateDirectory(state);
        await File.WriteAllTextAsync(Path.Combine(state, "slow.json"), """{ "default_version": 1, "labels": { "stable": 1 } }""");
        await File.WriteAllTextAsync(Path.Combine(state, "slow.json.tmp"), """{ "default_vers""");
        var before = Fingerprint(_server.Folder.Root);

        var (printedBeforeKill, wasServing) = await StartAndKillDuringLoadAsync(_server.Folder.Root);

        Assert.Contains("Loading models", printedBeforeKill, StringComparison.Ordinal);
        Assert.False(wasServing, printedBeforeKill);
        Assert.Equal(before, Fingerprint(_server.Folder.Root));
        await _server.StartAsync();
        var view = await new TurbineHttpClient(_server.Http).GetServingAsync("slow");
        Assert.Equal(1, view.DefaultVersion);
        Assert.Equal(1, view.Labels["stable"]);
        Assert.Equal([1L, 2L], view.Versions);
        Assert.Empty(Directory.GetFiles(state, "*.tmp"));
    }

    [Fact]
    public async Task Kill_9_in_the_middle_of_a_canary_rollout_loses_no_decision_and_resumes_where_it_was()
    {
        _server.Folder.Add("stable", SampleModels.AddSub(DataType.Int32, 4)).Add("next", SampleModels.AddSub(DataType.Int32, 4));
        using (var serve = await CliProcess.ServeAsync("KServe v2 REST", "-m", _server.Folder.Root, "--enable-management"))
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{serve.HttpPort}/") };
            var client = new TurbineHttpClient(http);
            await client.SetRouteAsync("checkout", """
                {"variants":[{"model":"stable"},{"model":"next"}],
                 "canary":{"steps":[10,50,100],"min_step_duration_s":0,"min_step_requests":1000000,"max_error_rate":0.5}}
                """);
            await client.ControlCanaryAsync("checkout", "promote");
            await client.ControlCanaryAsync("checkout", "pause", "kill test");
            serve.Process.Kill(); // SIGKILL right after the last decision was answered: no shutdown code runs
            await serve.Process.WaitForExitAsync();
        }

        await _server.StartAsync();
        var status = await new TurbineHttpClient(_server.Http).GetCanaryAsync("checkout");
        Assert.Equal(("paused", 2, 50.0), (status.State, status.Step, status.CanaryPercent));
        Assert.Equal(("restore", "server"), (status.Decisions[^1].Action, status.Decisions[^1].Actor));
        var audit = File.ReadAllLines(Path.Combine(_server.Folder.Root, ".turbine", "canary-audit", "checkout.jsonl"))
            .Select(line => System.Text.Json.JsonDocument.Parse(line).RootElement)
            .ToList();
        Assert.Equal(["start", "promote", "pause", "restore"], audit.Select(d => d.GetProperty("action").GetString()));
        Assert.Equal("kill test", audit[2].GetProperty("reason").GetString());
    }

    private static async Task<(string Output, bool WasServing)> StartAndKillDuringLoadAsync(string repository)
    {
        using var serve = await CliProcess.ServeAsync("Loading models", "-m", repository);
        serve.Process.Kill(); // SIGKILL: no shutdown code runs
        await serve.Process.WaitForExitAsync();
        return (serve.Output, serve.Output.Contains("Turbine is serving", StringComparison.Ordinal));
    }

    /// <summary>Every file's path, length and content hash, except the state folder's temporary files.</summary>
    private static string Fingerprint(string root) => string.Join('\n', Directory
        .EnumerateFiles(root, "*", SearchOption.AllDirectories)
        .Where(f => !f.EndsWith(".tmp", StringComparison.Ordinal))
        .Order(StringComparer.Ordinal)
        .Select(f => $"{Path.GetRelativePath(root, f)} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))}"));
}
