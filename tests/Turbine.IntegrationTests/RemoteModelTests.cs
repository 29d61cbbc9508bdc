using System.Net;
using System.Text.Json;
using Turbine.Onnx.Tools;

namespace Turbine.IntegrationTests;

/// <summary>
/// A remote model on one real server forwarding to a model on a second real server over gRPC (and REST): the answer,
/// the metadata read from the remote at load, and what happens when the remote goes away (503 within the deadline,
/// then at once from the open breaker, while the local models keep serving).
/// </summary>
public sealed class RemoteModelTests : IAsyncLifetime
{
    private readonly FolderServer _remote = new();
    private readonly FolderServer _front = new();

    public async Task InitializeAsync()
    {
        _remote.Folder.Add("addsub", SampleModels.AddSub(DataType.Int32, 4), """{ "max_batch_size": 8 }""");
        await _remote.StartAsync();
        Proxy("proxy", "grpc", _remote.Server.GrpcPort);
        Proxy("proxy-rest", "rest", _remote.Server.HttpPort);
        _front.Folder.Add("local", SampleModels.AddSub(DataType.Int32, 4), """{ "max_batch_size": 8 }""");
        await _front.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _front.DisposeAsync();
        await _remote.DisposeAsync();
    }

    private void Proxy(string name, string protocol, int port)
    {
        var folder = Path.Combine(_front.Folder.Root, name);
        Directory.CreateDirectory(Path.Combine(folder, "1"));
        File.WriteAllText(Path.Combine(folder, "config.json"), """{ "backend": "remote", "max_batch_size": 8 }""");
        File.WriteAllText(Path.Combine(folder, "1", "remote.json"), $$"""
            { "url": "http://127.0.0.1:{{port}}", "protocol": "{{protocol}}", "model": "addsub", "timeout_ms": 2000, "breaker_failures": 2, "breaker_open_ms": 60000, "health_interval_ms": 60000 }
            """);
    }

    private Task<HttpResponseMessage> InferAsync(string model) => _front.SendAsync(HttpMethod.Post, $"/v2/models/{model}/infer", """
        {"inputs": [
          {"name": "INPUT0", "datatype": "INT32", "shape": [1, 4], "data": [1, 2, 3, 4]},
          {"name": "INPUT1", "datatype": "INT32", "shape": [1, 4], "data": [10, 20, 30, 40]}]}
        """);

    [Theory]
    [InlineData("proxy")]
    [InlineData("proxy-rest")]
    public async Task A_remote_model_answers_with_the_remote_servers_outputs_under_its_own_name(string model)
    {
        using var response = await InferAsync(model);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(model, body.GetProperty("model_name").GetString());
        Assert.Equal("1", body.GetProperty("model_version").GetString());
        var outputs = body.GetProperty("outputs").EnumerateArray().ToDictionary(o => o.GetProperty("name").GetString()!, o => o.GetProperty("data").EnumerateArray().Select(v => v.GetInt32()).ToArray());
        Assert.Equal([11, 22, 33, 44], outputs["OUTPUT0"]);
        Assert.Equal([-9, -18, -27, -36], outputs["OUTPUT1"]);
        var metadata = await _front.GetJsonAsync($"/v2/models/{model}");
        Assert.Equal(["INPUT0", "INPUT1"], metadata.GetProperty("inputs").EnumerateArray().Select(i => i.GetProperty("name").GetString()));
        var remoteStats = await _remote.GetJsonAsync("/v2/models/addsub/stats");
        Assert.True(remoteStats.GetProperty("model_stats")[0].GetProperty("inference_count").GetInt64() >= 1, "the remote ran the request");
    }

    [Fact]
    public async Task When_the_remote_goes_away_requests_fail_with_503_and_the_breaker_answers_at_once()
    {
        await _remote.DisposeAsync();

        for (var attempt = 0; attempt < 2; attempt++)
        {
            using var failed = await InferAsync("proxy");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var refused = await InferAsync("proxy");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Contains("breaker is open", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(clock.ElapsedMilliseconds < 1000, $"the open breaker answered in {clock.ElapsedMilliseconds} ms");

        using var local = await InferAsync("local");
        Assert.Equal(HttpStatusCode.OK, local.StatusCode);
    }
}
