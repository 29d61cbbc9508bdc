using Turbine.Onnx.Tools;

namespace Turbine.IntegrationTests;

/// <summary>
/// A hedged remote model: its first target (a real server whose model is held at a gate) is slow, so after the hedge
/// delay the request also goes to the second target (another real server), whose answer wins; the slow call is cancelled.
/// </summary>
public sealed class HedgedRemoteModelTests : IAsyncLifetime
{
    private readonly Turbine.Tests.GatedBackend _slowBackend = new();
    private readonly FolderServer _slow = new();
    private readonly FolderServer _fast = new();
    private readonly FolderServer _front = new();

    public async Task InitializeAsync()
    {
        _slow.Folder.Add("addsub", SampleModels.AddSub(DataType.Int32, 4), """{ "max_batch_size": 8 }""");
        _fast.Folder.Add("addsub", SampleModels.AddSub(DataType.Int32, 4), """{ "max_batch_size": 8 }""");
        await _slow.StartAsync(backend: _slowBackend);
        await _fast.StartAsync();
        var folder = Path.Combine(_front.Folder.Root, "hedged");
        Directory.CreateDirectory(Path.Combine(folder, "1"));
        File.WriteAllText(Path.Combine(folder, "config.json"), """{ "backend": "remote", "max_batch_size": 8 }""");
        File.WriteAllText(Path.Combine(folder, "1", "remote.json"), $$"""
            { "url": "http://127.0.0.1:{{_slow.Server.GrpcPort}}", "model": "addsub", "timeout_ms": 20000, "health_interval_ms": 60000,
              "hedge_url": "http://127.0.0.1:{{_fast.Server.GrpcPort}}", "hedge_min_ms": 50 }
            """);
        await _front.StartAsync();
    }

    public async Task DisposeAsync()
    {
        _slowBackend.Gate.Set();
        await _front.DisposeAsync();
        await _fast.DisposeAsync();
        await _slow.DisposeAsync();
    }

    [Fact]
    public async Task A_slow_first_target_is_overtaken_by_the_hedge_and_the_hedge_is_counted()
    {
        _slowBackend.Gate.Reset(); // the first target's model will not answer until the test is over

        using var response = await _front.SendAsync(HttpMethod.Post, "/v2/models/hedged/infer", """
            {"inputs": [
              {"name": "INPUT0", "datatype": "INT32", "shape": [1, 4], "data": [1, 2, 3, 4]},
              {"name": "INPUT1", "datatype": "INT32", "shape": [1, 4], "data": [10, 20, 30, 40]}]}
            """);

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        Assert.Contains("[11,22,33,44]", text.Replace(" ", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        var models = _front.Server.Services.GetService(typeof(Turbine.Core.Lifecycle.ModelManager)) as Turbine.Core.Lifecycle.ModelManager;
        models!.Resolve("hedged", null, out var runner);
        var remote = Assert.IsType<Turbine.Remote.RemoteRunner>(runner);
        Assert.Equal(1, remote.Hedges);
        Assert.Equal(1, remote.HedgeWins);
        Assert.True(await _slowBackend.Entered.WaitAsync(TimeSpan.FromSeconds(10)), "the first target did get the request");
        var metrics = await _front.MetricsAsync();
        Assert.Contains("turbine_remote_hedges_total{model=\"hedged\",version=\"1\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("turbine_remote_hedge_wins_total{model=\"hedged\",version=\"1\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("turbine_remote_breaker_open{model=\"hedged\",version=\"1\"} 0", metrics, StringComparison.Ordinal);
    }
}
