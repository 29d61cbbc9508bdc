using System.Net;
using System.Text;
using System.Text.Json;
using Turbine.Client;

namespace Turbine.IntegrationTests;

[Collection(ServerCollection.Name)]
public sealed class RestEndpointTests(ServerFixture fixture)
{
    private readonly HttpClient _http = fixture.Http;

    [Fact]
    public async Task Health_endpoints_answer_with_status_and_a_json_body()
    {
        await AssertJsonAsync("v2/health/live", HttpStatusCode.OK, """{"live":true}""");
        await AssertJsonAsync("v2/health/ready", HttpStatusCode.OK, """{"ready":true}""");
    }

    [Fact]
    public async Task Server_metadata_names_the_server_and_its_extensions()
    {
        using var document = await GetJsonAsync("v2");

        Assert.Equal("turbine", document.RootElement.GetProperty("name").GetString());
        Assert.Contains("binary_tensor_data", document.RootElement.GetProperty("extensions").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("classification", document.RootElement.GetProperty("extensions").EnumerateArray().Select(e => e.GetString()));
        Assert.DoesNotContain("system_shared_memory", document.RootElement.GetProperty("extensions").EnumerateArray().Select(e => e.GetString())); // off by default
    }

    [Fact]
    public async Task Model_metadata_has_full_shapes_with_the_batch_dimension()
    {
        foreach (var path in new[] { "v2/models/simple", "v2/models/simple/versions/1" })
        {
            await AssertJsonAsync(path, HttpStatusCode.OK,
                """{"name":"simple","versions":["1"],"platform":"onnxruntime_onnx","inputs":[{"name":"INPUT0","datatype":"INT32","shape":[-1,16]},{"name":"INPUT1","datatype":"INT32","shape":[-1,16]}],"outputs":[{"name":"OUTPUT0","datatype":"INT32","shape":[-1,16]},{"name":"OUTPUT1","datatype":"INT32","shape":[-1,16]}]}""");
        }
    }

    [Fact]
    public async Task Model_config_is_tritons_json_form_completed_from_the_model()
    {
        using var document = await GetJsonAsync("v2/models/mlp/config");
        var root = document.RootElement;

        Assert.Equal("mlp", root.GetProperty("name").GetString());
        Assert.Equal("onnxruntime_onnx", root.GetProperty("platform").GetString());
        Assert.Equal(32, root.GetProperty("max_batch_size").GetInt32());
        Assert.Equal("TYPE_FP32", root.GetProperty("input")[0].GetProperty("data_type").GetString());
        Assert.Equal([4], root.GetProperty("input")[0].GetProperty("dims").EnumerateArray().Select(d => d.GetInt64()));
        Assert.Equal("TYPE_INT64", root.GetProperty("output")[1].GetProperty("data_type").GetString());
        Assert.Equal("all", root.GetProperty("onnxruntime").GetProperty("graph_optimization_level").GetString());
        Assert.False(root.GetProperty("onnxruntime").GetProperty("allow_spinning").GetBoolean());
        Assert.False(root.TryGetProperty("dynamic_batching", out _));
        using var versioned = await GetJsonAsync("v2/models/mlp/versions/1/config");
        Assert.Equal("mlp", versioned.RootElement.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Dynamic_batching_settings_appear_in_the_config()
    {
        using var document = await GetJsonAsync("v2/models/simple/config");
        var batching = document.RootElement.GetProperty("dynamic_batching");

        Assert.Equal([4], batching.GetProperty("preferred_batch_size").EnumerateArray().Select(v => v.GetInt32()));
        Assert.Equal(100, batching.GetProperty("max_queue_delay_microseconds").GetInt32());
        Assert.Equal(2, batching.GetProperty("priority_levels").GetInt32());
        var top = batching.GetProperty("priority_queue_policy").GetProperty("1");
        Assert.Equal(64, top.GetProperty("max_queue_size").GetInt32());
        Assert.Equal("DELAY", top.GetProperty("timeout_action").GetString());
        Assert.Equal("REJECT", batching.GetProperty("default_queue_policy").GetProperty("timeout_action").GetString());
    }

    [Fact]
    public async Task A_request_may_name_its_priority_in_the_parameters()
    {
        using var client = fixture.RestClient();
        using var request = new InferenceRequest { ModelName = "simple", Parameters = new Dictionary<string, object> { ["priority"] = 1L, ["timeout"] = 1_000_000L } };
        request.Inputs.Add(Tensor.FromArray("INPUT0", [1, 16], Enumerable.Repeat(2, 16).ToArray().AsSpan()));
        request.Inputs.Add(Tensor.FromArray("INPUT1", [1, 16], Enumerable.Repeat(1, 16).ToArray().AsSpan()));

        using var response = await client.InferAsync(request);

        Assert.Equal(Enumerable.Repeat(3, 16), response.Outputs[0].ToArray<int>());
    }

    [Fact]
    public async Task Concurrent_requests_to_a_batching_model_all_get_their_own_answers()
    {
        using var client = fixture.RestClient();
        var tasks = Enumerable.Range(0, 32).Select(async i =>
        {
            using var request = new InferenceRequest { ModelName = "simple", Id = i.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            request.Inputs.Add(Tensor.FromArray("INPUT0", [1, 16], Enumerable.Repeat(i, 16).ToArray().AsSpan()));
            request.Inputs.Add(Tensor.FromArray("INPUT1", [1, 16], Enumerable.Range(0, 16).ToArray().AsSpan()));
            using var response = await client.InferAsync(request);
            Assert.Equal(request.Id, response.Id);
            Assert.Equal(Enumerable.Range(0, 16).Select(j => i + j), response.Outputs[0].ToArray<int>());
            Assert.Equal(Enumerable.Range(0, 16).Select(j => i - j), response.Outputs[1].ToArray<int>());
        });

        await Task.WhenAll(tasks);
    }

    [Fact]
    public async Task Model_ready_is_200_for_ready_503_for_failed_and_404_for_unknown()
    {
        await AssertJsonAsync("v2/models/simple/ready", HttpStatusCode.OK, """{"name":"simple","ready":true}""");
        await AssertJsonAsync("v2/models/simple/versions/1/ready", HttpStatusCode.OK, """{"name":"simple","ready":true}""");
        await AssertJsonAsync("v2/models/corrupt/ready", HttpStatusCode.ServiceUnavailable, """{"name":"corrupt","ready":false}""");
        await AssertJsonAsync("v2/models/nope/ready", HttpStatusCode.NotFound, """{"error":"Request for unknown model: 'nope' is not found"}""");
    }

    [Fact]
    public async Task Statistics_for_all_one_model_and_one_version_count_requests()
    {
        using var client = fixture.RestClient();
        using var request = SimpleRequest();
        var before = (await client.GetModelStatisticsAsync("simple")).Single().SuccessCount;
        using (await client.InferAsync(request))
        {
        }

        var model = await client.GetModelStatisticsAsync("simple");
        var version = await client.GetModelStatisticsAsync("simple", "1");
        var all = await client.GetModelStatisticsAsync();

        Assert.Equal(before + 1, model.Single().SuccessCount);
        Assert.Equal("1", version.Single().Version);
        Assert.Contains(all, s => s.Name == "mlp");
        Assert.DoesNotContain(all, s => s.Name == "corrupt");
        using var document = await GetJsonAsync("v2/models/simple/stats");
        var stats = document.RootElement.GetProperty("model_stats")[0];
        Assert.True(stats.GetProperty("inference_stats").GetProperty("compute_infer").GetProperty("ns").GetInt64() > 0);
        Assert.True(stats.GetProperty("batch_stats")[0].GetProperty("batch_size").GetInt32() >= 1);
    }

    [Fact]
    public async Task Repository_index_lists_every_model_with_state_and_reason()
    {
        using var response = await _http.PostAsync("v2/repository/index", new StringContent("{}", Encoding.UTF8, "application/json"));
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var entries = document.RootElement.EnumerateArray().ToDictionary(e => e.GetProperty("name").GetString()!, e => e);

        Assert.Equal("READY", entries["simple"].GetProperty("state").GetString());
        Assert.Equal("1", entries["simple"].GetProperty("version").GetString());
        Assert.Equal("UNAVAILABLE", entries["corrupt"].GetProperty("state").GetString());
        Assert.Contains("not a valid ONNX model", entries["corrupt"].GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.RepositoryRoot, entries["corrupt"].GetProperty("reason").GetString(), StringComparison.Ordinal);

        var ready = await fixture.RestClient().GetRepositoryIndexAsync(readyOnly: true);
        Assert.DoesNotContain(ready, m => m.Name == "corrupt");
        Assert.Contains(ready, m => m.Name == "simple");
    }

    [Fact]
    public async Task Unload_and_load_over_rest_take_a_model_out_of_service_and_back()
    {
        using var client = fixture.RestClient();
        await client.UnloadModelAsync("identity_int16");
        Assert.False(await client.IsModelReadyAsync("identity_int16"));
        using var request = new InferenceRequest { ModelName = "identity_int16" };
        request.Inputs.Add(TestTensors.Sample("INPUT0", DataType.Int16));
        var refused = await Assert.ThrowsAsync<TurbineClientException>(() => client.InferAsync(request));
        Assert.Equal(503, refused.HttpStatus);
        Assert.Equal("Request for unknown model: 'identity_int16' has no available versions", refused.Message);

        await client.LoadModelAsync("identity_int16");

        Assert.True(await client.IsModelReadyAsync("identity_int16"));
        using var response = await client.InferAsync(request);
        Assert.Equal(TestTensors.Bytes(request.Inputs[0]), TestTensors.Bytes(response.Outputs[0]));
    }

    [Fact]
    public async Task Load_errors_are_clear()
    {
        await AssertPostAsync("v2/repository/models/missing/load", HttpStatusCode.NotFound, """{"error":"failed to load 'missing', failed to poll from model repository"}""");
        using var response = await _http.PostAsync("v2/repository/models/corrupt/load", null);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("failed to load 'corrupt': version 1: model file is not a valid ONNX model", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_are_served_on_the_metrics_port_only()
    {
        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{fixture.Server.MetricsPort}/") };
        using var client = fixture.RestClient();
        using var request = SimpleRequest();
        using (await client.InferAsync(request))
        {
        }

        var text = await metrics.GetStringAsync("metrics");

        Assert.Contains("# TYPE turbine_inference_request_success_total counter", text, StringComparison.Ordinal);
        Assert.Matches("turbine_inference_request_success_total\\{model=\"simple\",version=\"1\"\\} [1-9]", text);
        Assert.Contains("turbine_inference_queue_duration_seconds_bucket{model=\"simple\",version=\"1\",le=\"+Inf\"}", text, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync("metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await metrics.GetAsync("v2/health/live")).StatusCode);
    }

    [Fact]
    public async Task Unknown_model_names_do_not_create_metric_series()
    {
        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{fixture.Server.MetricsPort}/") };
        var before = CountSeries(await metrics.GetStringAsync("metrics"));
        for (var i = 0; i < 200; i++)
        {
            using var response = await _http.PostAsync($"v2/models/random{i}/infer", new StringContent("{}", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }

        Assert.Equal(before, CountSeries(await metrics.GetStringAsync("metrics")));
    }

    internal static InferenceRequest SimpleRequest(string? id = null)
    {
        var request = new InferenceRequest { ModelName = "simple", Id = id };
        request.Inputs.Add(Tensor.FromArray("INPUT0", [1, 16], Enumerable.Range(0, 16).ToArray().AsSpan()));
        request.Inputs.Add(Tensor.FromArray("INPUT1", [1, 16], Enumerable.Repeat(1, 16).ToArray().AsSpan()));
        return request;
    }

    private static int CountSeries(string text) => text.Split('\n').Count(l => l.Length > 0 && l[0] != '#');

    private async Task<JsonDocument> GetJsonAsync(string path)
    {
        using var response = await _http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    }

    private async Task AssertJsonAsync(string path, HttpStatusCode status, string body)
    {
        using var response = await _http.GetAsync(path);
        Assert.Equal(status, response.StatusCode);
        Assert.Equal(body, await response.Content.ReadAsStringAsync());
    }

    private async Task AssertPostAsync(string path, HttpStatusCode status, string body)
    {
        using var response = await _http.PostAsync(path, null);
        Assert.Equal(status, response.StatusCode);
        Assert.Equal(body, await response.Content.ReadAsStringAsync());
    }
}
