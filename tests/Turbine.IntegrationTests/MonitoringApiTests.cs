using System.Net;
using System.Text.Json;
using Turbine.Onnx.Tools;

namespace Turbine.IntegrationTests;

/// <summary>
/// Monitoring on a real server: a profile made by <c>turbine profile</c> from a CSV, drift raised by shifted traffic
/// and not by unshifted traffic, quality rules that reject and flag, labelled feedback, the metrics and the cost.
/// </summary>
public sealed class MonitoringApiTests : IAsyncDisposable
{
    private const string Config = """
        {
          "max_batch_size": 64,
          "monitoring": {
            "probabilities": "probabilities",
            "window_rows": 300,
            "min_rows": 100,
            "latency_target_ms": 50,
            "quality": { "rules": [
              { "feature": "features[1]", "min": -10, "max": 10, "policy": "reject" },
              { "feature": "features[2]", "min": -4, "max": 4, "policy": "flag" } ] }
          }
        }
        """;

    private readonly FolderServer _server = new();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Shifted_traffic_raises_drift_that_unshifted_traffic_does_not()
    {
        await StartAsync();
        var random = new Random(5);

        await SendAsync(random, rows: 300, shift: 0);
        var calm = (await _server.GetJsonAsync("v2/models/clf/drift")).GetProperty("versions")[0];
        await SendAsync(random, rows: 300, shift: 2.5);
        var shifted = (await _server.GetJsonAsync("v2/models/clf/drift")).GetProperty("versions")[0];

        Assert.True(calm.GetProperty("judged").GetBoolean());
        Assert.False(calm.GetProperty("dataset_drift").GetBoolean());
        Assert.True(shifted.GetProperty("dataset_drift").GetBoolean());
        Assert.Equal(1.0, shifted.GetProperty("drifted_share").GetDouble());
        var feature = shifted.GetProperty("features").EnumerateArray().First(f => f.GetProperty("name").GetString() == "features[0]");
        Assert.Equal("ks", feature.GetProperty("method").GetString()); // a reference of 800 rows
        Assert.True(feature.GetProperty("drifted").GetBoolean());
        Assert.True(shifted.GetProperty("performance").GetProperty("calibrated").GetBoolean());
        var metrics = await _server.MetricsAsync();
        Assert.Contains("turbine_dataset_drift{model=\"clf\",version=\"1\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("turbine_drift_detected{model=\"clf\",version=\"1\",feature=\"features[0]\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("turbine_model_latency_target_seconds{model=\"clf\",version=\"1\"} 0.05", metrics, StringComparison.Ordinal);
        Assert.Equal(0, (await MetricsTests.PromtoolCheckAsync(metrics)).ExitCode);
    }

    [Fact]
    public async Task Quality_rules_reject_with_the_rule_and_flag_with_a_count()
    {
        await StartAsync();

        using var rejected = await InferAsync([[0, 50, 0]]);
        using var flagged = await InferAsync([[0, 1, 9]]);

        Assert.Equal(HttpStatusCode.BadRequest, rejected.StatusCode);
        Assert.Equal("""{"error":"input 'features' row 0: 50 is outside [-10, 10] (quality rule 'features[1]:range')"}""", await rejected.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, flagged.StatusCode);
        var metrics = await _server.MetricsAsync();
        Assert.Contains("turbine_quality_violations_total{model=\"clf\",version=\"1\",rule=\"features[2]:range\",policy=\"flag\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("turbine_quality_violations_total{model=\"clf\",version=\"1\",rule=\"features[1]:range\",policy=\"reject\"} 1", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Labels_fed_back_for_observed_requests_give_the_measured_accuracy()
    {
        await StartAsync();
        using (var answered = await InferAsync([[0.5f, 0, 0]], id: "req-1"))
        {
            Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        }

        await MonitoredClassifier.WaitForRowsAsync(_server, 1);
        using var known = await _server.SendAsync(HttpMethod.Post, "v2/models/clf/feedback", """{"id":"req-1","label":1,"converted":true}""");
        using var unknown = await _server.SendAsync(HttpMethod.Post, "v2/models/clf/feedback", """{"id":"never","label":1}""");
        using var noId = await _server.SendAsync(HttpMethod.Post, "v2/models/clf/feedback", """{"label":1}""");

        Assert.Equal(HttpStatusCode.OK, known.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, noId.StatusCode);
        var performance = (await _server.GetJsonAsync("v2/models/clf/drift")).GetProperty("versions")[0].GetProperty("performance");
        Assert.Equal(1, performance.GetProperty("labelled").GetInt32());
        Assert.InRange(performance.GetProperty("measured_accuracy").GetDouble(), 0, 1);
        var cost = await _server.GetJsonAsync("v2/cost");
        Assert.Equal(1, cost.GetProperty("models")[0].GetProperty("feedback").GetProperty("conversions").GetInt64());
    }

    [Fact]
    public async Task Hostile_feedback_gets_a_clean_error_and_the_model_keeps_serving()
    {
        await StartAsync();
        (string Body, HttpStatusCode Status)[] family =
        [
            ("not json", HttpStatusCode.BadRequest),
            ("[1,2]", HttpStatusCode.BadRequest),
            (new string('[', 10_000) + new string(']', 10_000), HttpStatusCode.BadRequest),
            ("""{"id":"x","label":{"a":1}}""", HttpStatusCode.BadRequest),
            ("""{"id":"x","label":-3}""", HttpStatusCode.BadRequest),
            ("""{"id":"x","label":1.5}""", HttpStatusCode.BadRequest),
            ("""{"id":7,"label":1}""", HttpStatusCode.BadRequest),
            ("""{"id":"x"}""", HttpStatusCode.BadRequest),
            ("{\"id\":\"\\u0000\\n../../etc\",\"label\":\"1\"}", HttpStatusCode.NotFound),
            ("""{"id":"x","value":"NaN"}""", HttpStatusCode.BadRequest),
        ];

        foreach (var (body, status) in family)
        {
            using var response = await _server.SendAsync(HttpMethod.Post, "v2/models/clf/feedback", body);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(status == response.StatusCode, $"{body[..Math.Min(body.Length, 40)]}: {response.StatusCode} {text}");
            Assert.StartsWith("{\"error\":", text, StringComparison.Ordinal);
            Assert.DoesNotContain("\n", text, StringComparison.Ordinal);
        }

        using var unknown = await _server.SendAsync(HttpMethod.Post, "v2/models/nothing/feedback", """{"id":"x","label":1}""");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using var answered = await InferAsync([[0, 0, 0]]);
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
    }

    [Fact]
    public async Task Cost_attributes_the_process_cpu_time_to_the_versions_that_ran()
    {
        await StartAsync();
        await SendAsync(new Random(1), rows: 200, shift: 0);

        var cost = await _server.GetJsonAsync("v2/cost");

        var cpu = cost.GetProperty("cpu_seconds").GetDouble();
        var models = cost.GetProperty("models").EnumerateArray().ToList();
        var clf = models.Single(m => m.GetProperty("model").GetString() == "clf");
        Assert.True(cpu > 0);
        Assert.True(clf.GetProperty("cpu_seconds").GetDouble() > 0);
        Assert.True(clf.GetProperty("inferences").GetInt64() >= 200);
        Assert.Equal(cpu, models.Sum(m => m.GetProperty("cpu_seconds").GetDouble()) + cost.GetProperty("idle_cpu_seconds").GetDouble(), 6);
        Assert.Contains("turbine_cost_cpu_seconds_total{model=\"clf\",version=\"1\"}", await _server.MetricsAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_route_arm_to_a_pipeline_is_billed_its_steps_execution_time()
    {
        await StartAsync();
        using (var pipeline = await _server.SendAsync(HttpMethod.Put, "v2/pipelines/piped", """{"steps":[{"name":"only","model":"clf","input_map":{"features":"x"},"output_map":{"probabilities":"y"}}]}"""))
        using (var route = await _server.SendAsync(HttpMethod.Put, "v2/routes/scored", """{"variants":[{"model":"piped"}]}"""))
        {
            Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (pipeline.StatusCode, route.StatusCode));
        }

        for (var i = 0; i < 40; i++)
        {
            using var piped = await _server.SendAsync(HttpMethod.Post, "v2/models/scored/infer", """{"inputs":[{"name":"x","datatype":"FP32","shape":[1,3],"data":[0.1,0.2,0.3]}]}""");
            Assert.Equal(HttpStatusCode.OK, piped.StatusCode);
        }

        var cost = await _server.GetJsonAsync("v2/cost");

        var arm = cost.GetProperty("routes").EnumerateArray().Single(r => r.GetProperty("variant").GetString() == "piped");
        Assert.Equal(40, arm.GetProperty("requests").GetInt64());
        Assert.True(arm.GetProperty("cpu_seconds").GetDouble() > 0, arm.ToString());
    }

    [Fact]
    public async Task A_bad_monitoring_section_fails_the_load_with_its_errors()
    {
        _server.Folder.Add("bad", SampleModels.Mlp(3, 8, 2), """{"max_batch_size": 8, "monitoring": {"window_rows": 1, "quality": {"rules": [{"feature": "nope", "min": 0}]}}}""");
        await StartAsync();

        var index = await _server.SendAsync(HttpMethod.Post, "v2/repository/index", "{}");
        var text = await index.Content.ReadAsStringAsync();

        Assert.Contains("window_rows", text, StringComparison.Ordinal);
        using var drift = await _server.SendAsync(HttpMethod.Get, "v2/models/bad/drift", null);
        Assert.Equal(HttpStatusCode.NotFound, drift.StatusCode);
    }

    private async Task StartAsync()
    {
        await MonitoredClassifier.AddAsync(_server.Folder, Config, rows: 800);
        _server.Configuration.Add("--Turbine:Observer:SampleRate=1");
        await _server.StartAsync();
    }

    private Task SendAsync(Random random, int rows, double shift) => MonitoredClassifier.SendAsync(_server, random, rows, shift);

    private Task<HttpResponseMessage> InferAsync(float[][] rows, string? id = null) => _server.Http.PostAsync("v2/models/clf/infer", MonitoredClassifier.Request(rows, id));
}
