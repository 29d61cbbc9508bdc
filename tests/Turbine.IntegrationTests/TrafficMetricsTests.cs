using System.Net;
using System.Text;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>The traffic series (routes, shadows, breakers, canaries, pipelines, cascades) are valid Prometheus text.</summary>
public sealed class TrafficMetricsTests : IAsyncDisposable
{
    private readonly FolderServer _server = new();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Every_traffic_series_with_samples_passes_promtool_check_metrics()
    {
        _server.Folder.Add("mlp_a", SampleModels.Mlp(seed: 1)).Add("mlp_b", SampleModels.Mlp(seed: 2));
        await _server.StartAsync();
        await PutAsync("v2/routes/scored", """
            {"variants":[{"model":"mlp_a"},{"model":"mlp_b"}],
             "shadow":{"model":"mlp_b","share":1,"max_cpu":1},
             "resilience":{"circuit_breaker":{"failure_ratio":0.5,"minimum_throughput":10},"hedge":{"model":"mlp_b","min_ms":60000}},
             "canary":{"steps":[50,100],"min_step_duration_s":3600,"min_step_requests":100000}}
            """);
        await PutAsync("v2/pipelines/cheap_first", """
            {"steps":[{"name":"c","cascade":{"stages":[{"model":"mlp_a","threshold":0.9},{"model":"mlp_b"}],"confidence":"probabilities"},
                       "input_map":{"features":"features"},"output_map":{"probabilities":"probs"}}]}
            """);
        const string Body = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.5,-1,2,0.25]}]}""";
        for (var i = 0; i < 10; i++)
        {
            foreach (var name in new[] { "scored", "cheap_first" })
            {
                using var response = await _server.Http.PostAsync($"v2/models/{name}/infer", new StringContent(Body, Encoding.UTF8, "application/json"));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }

        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_server.Server.MetricsPort}/") };
        var text = await metrics.GetStringAsync("metrics");
        foreach (var series in new[]
        {
            "turbine_route_requests_total{", "turbine_shadow_requests_total{", "turbine_shadow_abs_diff{", "turbine_route_circuit_state{",
            "turbine_canary_state{", "turbine_canary_step_p99_seconds{", "turbine_route_hedges_total{route=\"scored\"} 0", "turbine_pipeline_step_duration_seconds_bucket{", "turbine_cascade_answers_total{",
        })
        {
            Assert.Contains(series, text, StringComparison.Ordinal);
        }

        var (exitCode, output) = await MetricsTests.PromtoolCheckAsync(text);
        Assert.True(exitCode == 0, $"promtool check metrics failed ({exitCode}):\n{output}");
        Assert.Equal(string.Empty, output.Trim());
    }

    private async Task PutAsync(string path, string json)
    {
        using var response = await _server.Http.PutAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }
}
