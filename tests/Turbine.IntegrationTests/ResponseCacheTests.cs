using System.Net;
using Turbine.Onnx.Graph;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>The response cache on a real server: hits skip execution, answer identically, and show in statistics and metrics.</summary>
public sealed class ResponseCacheTests : IAsyncDisposable
{
    private readonly FolderServer _server = new();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_repeated_rest_request_is_a_cache_hit_with_an_identical_body()
    {
        _server.Folder.Add("cached", SampleModels.AddSub(DataType.Int32, 4), """{ "max_batch_size": 8, "response_cache": { "enable": true } }""");
        await _server.StartAsync();

        var first = await InferAsync();
        var second = await InferAsync();

        Assert.Equal(first, second);
        var stats = await _server.Http.GetStringAsync("v2/models/cached/stats");
        Assert.Contains("\"execution_count\":1", stats, StringComparison.Ordinal);
        Assert.Contains("\"cache_hit\":{\"count\":1", stats, StringComparison.Ordinal);
        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_server.Server.MetricsPort}/") };
        Assert.Contains("turbine_cache_hit_total{model=\"cached\",version=\"1\"} 1", await metrics.GetStringAsync("metrics"), StringComparison.Ordinal);
    }

    private async Task<string> InferAsync()
    {
        using var response = await _server.Http.PostAsync("v2/models/cached/infer", AddSubRequests.Content());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }
}
