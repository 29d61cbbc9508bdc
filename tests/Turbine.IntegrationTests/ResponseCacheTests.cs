using System.Net;
using Turbine.Onnx.Tools;
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

    [Fact]
    public async Task Replicas_share_answers_through_a_real_redis_and_serve_on_when_it_dies()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var replica = new FolderServer();
        foreach (var server in new[] { _server, replica })
        {
            server.Folder.Add("cached", SampleModels.AddSub(DataType.Int32, 4), """{ "max_batch_size": 8, "response_cache": { "enable": true } }""");
            await server.StartAsync(options => options.ResponseCacheRedis = redis.Configuration);
        }

        var computed = await InferAsync(_server);
        await redis.WaitForKeysAsync(1); // the first replica's write is fire-and-forget
        var shared = await InferAsync(replica);

        Assert.Equal(computed, shared);
        var stats = await replica.Http.GetStringAsync("v2/models/cached/stats");
        Assert.Contains("\"execution_count\":0", stats, StringComparison.Ordinal);
        Assert.Contains("\"cache_hit\":{\"count\":1", stats, StringComparison.Ordinal);

        // Redis dies: lookups fail fast, count as misses and errors, and every request is still answered.
        await redis.StopAsync();
        for (var i = 0; i < 20; i++)
        {
            using var response = await replica.Http.PostAsync("v2/models/cached/infer", new StringContent(AddSubRequests.Json.Replace("[1,2,3,4]", $"[{i},2,3,4]", StringComparison.Ordinal), System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{replica.Server.MetricsPort}/") };
        var errors = await metrics.GetStringAsync("metrics");
        Assert.Matches(@"turbine_cache_redis_errors_total [1-9]", errors);
    }

    private Task<string> InferAsync() => InferAsync(_server);

    private static async Task<string> InferAsync(FolderServer server)
    {
        using var response = await server.Http.PostAsync("v2/models/cached/infer", AddSubRequests.Content());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }
}
