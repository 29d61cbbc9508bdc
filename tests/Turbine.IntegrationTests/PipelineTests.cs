using System.Net;
using System.Text;
using System.Text.Json;
using Turbine.Client;
using Turbine.Tests;
using Turbine.Onnx.Tools;

namespace Turbine.IntegrationTests;

/// <summary>
/// Pipelines on a real server with real ONNX models: every answer is checked against calling the same models by hand
/// (and doing the aggregation by hand), over REST and gRPC.
/// </summary>
public sealed class PipelineTests : IAsyncDisposable
{
    private const string Ensemble = """
        {
          "steps": [
            { "name": "prep", "model": "prep", "input_map": { "INPUT0": "x", "INPUT1": "y" }, "output_map": { "OUTPUT0": "sum" } },
            { "name": "a", "model": "mlp_a", "input_map": { "features": "sum" }, "output_map": { "probabilities": "pa" } },
            { "name": "b", "model": "mlp_b", "input_map": { "features": "sum" }, "output_map": { "probabilities": "pb" } },
            { "name": "c", "model": "mlp_c", "input_map": { "features": "sum" }, "output_map": { "probabilities": "pc" } },
            { "name": "mean", "aggregate": "average", "inputs": ["pa", "pb", "pc"], "output": "probs" },
            { "name": "vote", "aggregate": "vote", "inputs": ["pa", "pb", "pc"], "output": "label" }
          ],
          "outputs": ["probs", "label"]
        }
        """;

    private const string Switch = """
        {
          "steps": [
            { "name": "pick", "switch": { "parameter": "tier", "cases": { "gold": { "model": "mlp_a" }, "7": { "model": "mlp_c" } }, "default": { "model": "mlp_b" } },
              "input_map": { "features": "features" }, "output_map": { "probabilities": "probs" } }
          ]
        }
        """;

    private const string Cascade = """
        {
          "steps": [
            { "name": "cheap_first", "cascade": { "stages": [ { "model": "mlp_a", "threshold": THRESHOLD }, { "model": "mlp_b" } ], "confidence": "probabilities" },
              "input_map": { "features": "features" }, "output_map": { "probabilities": "probs", "label": "label" } }
          ]
        }
        """;

    private readonly GatedBackend _backend = new();
    private readonly FolderServer _server = new();
    private TurbineHttpClient _client = null!;

    public async ValueTask DisposeAsync()
    {
        _backend.Gate.Set();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task An_ensemble_gives_what_calling_its_models_by_hand_gives_and_runs_independent_branches_at_once()
    {
        await StartAsync();
        await PutAsync("ensemble", Ensemble, HttpStatusCode.OK);

        for (var seed = 0; seed < 5; seed++)
        {
            var (x, y) = (Floats(seed, 8), Floats(seed + 100, 8));
            using var answer = await _client.InferAsync(Request("ensemble", ("x", x, [2, 4]), ("y", y, [2, 4])));

            using var prep = await _client.InferAsync(Request("prep", ("INPUT0", x, [2, 4]), ("INPUT1", y, [2, 4])));
            var sum = prep.Outputs.Single(o => o.Name == "OUTPUT0").ToArray<float>();
            var by = new List<float[]>();
            foreach (var model in new[] { "mlp_a", "mlp_b", "mlp_c" })
            {
                using var single = await _client.InferAsync(Request(model, ("features", sum, [2, 4])));
                by.Add(single.Outputs.Single(o => o.Name == "probabilities").ToArray<float>());
            }

            var mean = Enumerable.Range(0, 6).Select(i => (float)((by[0][i] + (double)by[1][i] + by[2][i]) / 3)).ToArray();
            Assert.Equal(mean, answer.Outputs.Single(o => o.Name == "probs").ToArray<float>());
            Assert.Equal([2L], answer.Outputs.Single(o => o.Name == "label").Shape);
            Assert.Equal(Enumerable.Range(0, 2).Select(row => Vote(by, row)).ToArray(), answer.Outputs.Single(o => o.Name == "label").ToArray<long>());
        }

        // Branches a, b and c wait only on prep: with the models held, all three are running at once.
        _backend.HeldModels = ["mlp_a", "mlp_b", "mlp_c"];
        _backend.Gate.Reset();
        var pending = _client.InferAsync(Request("ensemble", ("x", Floats(1, 4), [1, 4]), ("y", Floats(2, 4), [1, 4])));
        for (var i = 0; i < 3; i++)
        {
            Assert.True(await _backend.Entered.WaitAsync(TimeSpan.FromSeconds(30)), $"only {i} of 3 branches started");
        }

        _backend.Gate.Set();
        using (await pending)
        {
        }

        // Clients that read metadata first see the pipeline as Triton shows an ensemble.
        using var metadata = JsonDocument.Parse(await _server.Http.GetStringAsync("v2/models/ensemble"));
        Assert.Equal("ensemble", metadata.RootElement.GetProperty("platform").GetString());
        Assert.Equal("x:FP32:[-1,4] y:FP32:[-1,4]", Describe(metadata.RootElement.GetProperty("inputs")));
        Assert.Equal("probs:FP32:[-1,3] label:INT64:[-1]", Describe(metadata.RootElement.GetProperty("outputs")));
        using (var ready = await _server.Http.GetAsync("v2/models/ensemble/ready"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        var stats = await StatsAsync("ensemble");
        Assert.Equal(6, stats.GetProperty("success").GetProperty("count").GetInt64());
        var typed = await _client.GetPipelineStatisticsAsync("ensemble");
        Assert.Equal((6L, 0L), (typed.Success.Count, typed.Fail.Count));
        Assert.Equal(["prep", "a", "b", "c", "mean", "vote"], typed.Steps.Select(s => s.Name));
        Assert.All(typed.Steps, step => Assert.Equal(6, step.Success.Count));
        var triton = await _server.Http.GetStringAsync("v2/models/ensemble/stats"); // Triton's statistics extension counts the pipeline as a model
        Assert.Contains("\"success\":{\"count\":6", triton, StringComparison.Ordinal);
        Assert.All(stats.GetProperty("steps").EnumerateArray(), step => Assert.Equal(6, step.GetProperty("success").GetProperty("count").GetInt64()));
        var metrics = await MetricsAsync();
        Assert.Contains("turbine_pipeline_step_duration_seconds_count{pipeline=\"ensemble\",step=\"mean\"} 6", metrics, StringComparison.Ordinal);
        Assert.Contains("turbine_pipeline_requests_total{pipeline=\"ensemble\",outcome=\"success\"} 6", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_switch_picks_the_model_by_parameter_and_answers_as_that_model_does()
    {
        await StartAsync();
        await PutAsync("tiered", Switch, HttpStatusCode.OK);
        var features = Floats(3, 4);

        foreach (var (tier, model) in new (object?, string)[] { ("gold", "mlp_a"), (7, "mlp_c"), ("silver", "mlp_b"), (null, "mlp_b") })
        {
            var request = Request("tiered", ("features", features, [1, 4]));
            if (tier is not null)
            {
                request.Parameters = new Dictionary<string, object> { ["tier"] = tier };
            }

            using var answer = await _client.InferAsync(request);
            using var direct = await _client.InferAsync(Request(model, ("features", features, [1, 4])));
            Assert.Equal(direct.Outputs.Single(o => o.Name == "probabilities").ToArray<float>(), answer.Outputs.Single().ToArray<float>());
        }

        // A route may send traffic to a pipeline, so a pipeline can be A/B tested or canaried like a model.
        using (var put = await _server.Http.PutAsync("v2/routes/front", new StringContent("""{"variants":[{"model":"tiered"}]}""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        var routed = Request("front", ("features", features, [1, 4]));
        routed.Parameters = new Dictionary<string, object> { ["tier"] = "gold" };
        using (var viaRoute = await _client.InferAsync(routed))
        using (var byHand = await _client.InferAsync(Request("mlp_a", ("features", features, [1, 4]))))
        {
            Assert.Equal(byHand.Outputs.Single(o => o.Name == "probabilities").ToArray<float>(), viaRoute.Outputs.Single().ToArray<float>());
            Assert.Equal("tiered", viaRoute.Parameters!["turbine_variant"]);
        }

        var cases = (await StatsAsync("tiered")).GetProperty("steps")[0].GetProperty("cases");
        Assert.Equal((2, 1, 2), (cases.GetProperty("gold").GetInt32(), cases.GetProperty("7").GetInt32(), cases.GetProperty("default").GetInt32()));

        // gRPC reaches pipelines through the same name.
        using var grpc = new TurbineGrpcClient(new Uri($"http://127.0.0.1:{_server.Server.GrpcPort}"));
        var overGrpc = Request("tiered", ("features", features, [1, 4]));
        overGrpc.Parameters = new Dictionary<string, object> { ["tier"] = "gold" };
        using var grpcAnswer = await grpc.InferAsync(overGrpc);
        using var gold = await _client.InferAsync(Request("mlp_a", ("features", features, [1, 4])));
        Assert.Equal(gold.Outputs.Single(o => o.Name == "probabilities").ToArray<float>(), grpcAnswer.Outputs.Single().ToArray<float>());
    }

    [Fact]
    public async Task A_cascade_escalates_exactly_the_rows_the_cheap_model_is_unsure_of_and_reports_the_share()
    {
        await StartAsync();
        var inputs = Enumerable.Range(0, 20).Select(seed => Floats(seed, 4)).ToList();
        var confidences = new List<float>();
        foreach (var input in inputs)
        {
            using var cheap = await _client.InferAsync(Request("mlp_a", ("features", input, [1, 4])));
            confidences.Add(cheap.Outputs.Single(o => o.Name == "probabilities").ToArray<float>().Max());
        }

        var threshold = (double)confidences.Order().ElementAt(10); // about half go to the expensive model
        await PutAsync("cascade", Cascade.Replace("THRESHOLD", threshold.ToString("R", System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal), HttpStatusCode.OK);

        var escalated = 0;
        for (var i = 0; i < inputs.Count; i++)
        {
            var expected = confidences[i] >= threshold ? "mlp_a" : "mlp_b";
            escalated += expected == "mlp_b" ? 1 : 0;
            using var answer = await _client.InferAsync(Request("cascade", ("features", inputs[i], [1, 4])));
            using var direct = await _client.InferAsync(Request(expected, ("features", inputs[i], [1, 4])));
            Assert.Equal(direct.Outputs.Single(o => o.Name == "probabilities").ToArray<float>(), answer.Outputs.Single(o => o.Name == "probs").ToArray<float>());
            Assert.Equal(direct.Outputs.Single(o => o.Name == "label").ToArray<long>(), answer.Outputs.Single(o => o.Name == "label").ToArray<long>());
        }

        var step = (await StatsAsync("cascade")).GetProperty("steps")[0];
        Assert.Equal(escalated / 20.0, step.GetProperty("escalated_share").GetDouble(), 9);
        Assert.Equal(20 - escalated, step.GetProperty("stages")[0].GetProperty("answered").GetInt64());
        Assert.Contains($"turbine_cascade_answers_total{{pipeline=\"cascade\",step=\"cheap_first\",stage=\"mlp_b\"}} {escalated}", await MetricsAsync(), StringComparison.Ordinal);

        // The same 20 rows in one request: only the unsure rows go to mlp_b, and each row is answered as by hand.
        var batch = inputs.SelectMany(row => row).ToArray();
        using var batched = await _client.InferAsync(Request("cascade", ("features", batch, [20, 4])));
        using var cheapBatch = await _client.InferAsync(Request("mlp_a", ("features", batch, [20, 4])));
        using var expensiveBatch = await _client.InferAsync(Request("mlp_b", ("features", batch, [20, 4])));
        var (cheapRows, expensiveRows) = (cheapBatch.Outputs.Single(o => o.Name == "probabilities").ToArray<float>(), expensiveBatch.Outputs.Single(o => o.Name == "probabilities").ToArray<float>());
        var expectedRows = Enumerable.Range(0, 20).SelectMany(row => (confidences[row] >= threshold ? cheapRows : expensiveRows).Skip(row * 3).Take(3)).ToArray();
        Assert.Equal(expectedRows, batched.Outputs.Single(o => o.Name == "probs").ToArray<float>());
        var afterBatch = (await StatsAsync("cascade")).GetProperty("steps")[0].GetProperty("stages");
        Assert.Equal((2L * (20 - escalated), 2L * escalated), (afterBatch[0].GetProperty("answered").GetInt64(), afterBatch[1].GetProperty("answered").GetInt64()));
        var cli = await CliProcess.RunAsync("pipelines", "stats", "cascade", "--url", _server.Http.BaseAddress!.ToString());
        Assert.Contains("cheap_first", cli, StringComparison.Ordinal);
        Assert.Contains($"mlp_b {2 * escalated}", cli, StringComparison.Ordinal); // the single rows and the batch
    }

    [Fact]
    public async Task A_triton_ensemble_folder_serves_as_a_pipeline_with_the_models_answers()
    {
        // Triton's layout: a config.pbtxt with platform "ensemble" and an empty version folder.
        var folder = Path.Combine(_server.Folder.Root, "triton_ensemble");
        Directory.CreateDirectory(Path.Combine(folder, "1"));
        File.WriteAllText(Path.Combine(folder, "config.pbtxt"), """
            name: "triton_ensemble"
            platform: "ensemble"
            max_batch_size: 8
            input [ { name: "IN0" data_type: TYPE_FP32 dims: [ 4 ] }, { name: "IN1" data_type: TYPE_FP32 dims: [ 4 ] } ]
            output [ { name: "SCORES" data_type: TYPE_FP32 dims: [ 3 ] } ]
            ensemble_scheduling {
              step [
                {
                  model_name: "prep"
                  model_version: -1
                  input_map { key: "INPUT0" value: "IN0" }
                  input_map { key: "INPUT1" value: "IN1" }
                  output_map { key: "OUTPUT0" value: "summed" }
                },
                {
                  model_name: "mlp_a"
                  model_version: 1
                  input_map { key: "features" value: "summed" }
                  output_map { key: "probabilities" value: "SCORES" }
                }
              ]
            }
            """);
        await StartAsync();
        var (x, y) = (Floats(5, 4), Floats(6, 4));

        using var answer = await _client.InferAsync(Request("triton_ensemble", ("IN0", x, [1, 4]), ("IN1", y, [1, 4])));

        using var prep = await _client.InferAsync(Request("prep", ("INPUT0", x, [1, 4]), ("INPUT1", y, [1, 4])));
        using var byHand = await _client.InferAsync(Request("mlp_a", ("features", prep.Outputs.Single(o => o.Name == "OUTPUT0").ToArray<float>(), [1, 4])));
        Assert.Equal(byHand.Outputs.Single(o => o.Name == "probabilities").ToArray<float>(), answer.Outputs.Single(o => o.Name == "SCORES").ToArray<float>());
        using var metadata = JsonDocument.Parse(await _server.Http.GetStringAsync("v2/models/triton_ensemble"));
        Assert.Equal("ensemble", metadata.RootElement.GetProperty("platform").GetString());
        Assert.Contains("\"name\":\"triton_ensemble\"", await _server.Http.GetStringAsync("v2/pipelines"), StringComparison.Ordinal);
        using (var index = await _server.Http.PostAsync("v2/repository/index", new StringContent("{}", Encoding.UTF8, "application/json")))
        {
            Assert.Contains("{\"name\":\"triton_ensemble\",\"version\":\"1\",\"state\":\"READY\"", await index.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // Triton's repository API unloads and loads an ensemble like a model (model control mode explicit).
        await _client.UnloadModelAsync("triton_ensemble");
        await InferAsync("triton_ensemble", """{"inputs":[{"name":"IN0","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}""", HttpStatusCode.NotFound, "triton_ensemble");
        await _client.LoadModelAsync("triton_ensemble");
        using (var again = await _client.InferAsync(Request("triton_ensemble", ("IN0", x, [1, 4]), ("IN1", y, [1, 4]))))
        {
            Assert.Equal(answer.Outputs.Single().ToArray<float>(), again.Outputs.Single().ToArray<float>());
        }

        Assert.False(File.Exists(Path.Combine(_server.Folder.Root, ".turbine", "pipelines", "triton_ensemble.json"))); // the repository declares it; no state is saved
    }

    [Fact]
    public async Task In_poll_mode_an_edited_ensemble_is_read_again_and_a_removed_one_stops_serving()
    {
        var folder = Path.Combine(_server.Folder.Root, "poll_ensemble");
        Directory.CreateDirectory(Path.Combine(folder, "1"));
        static string Config(string model) => $$"""
            platform: "ensemble"
            output [ { name: "P" data_type: TYPE_FP32 dims: [ 3 ] } ]
            ensemble_scheduling { step [ { model_name: "{{model}}" model_version: -1 input_map { key: "features" value: "F" } output_map { key: "probabilities" value: "P" } } ] }
            """;
        File.WriteAllText(Path.Combine(folder, "config.pbtxt"), Config("mlp_a"));
        await StartAsync(options =>
        {
            options.ModelControlMode = Turbine.Server.Hosting.ModelControlMode.Poll;
            options.RepositoryPollInterval = TimeSpan.FromMilliseconds(100);
        });
        var poller = (Turbine.Server.Hosting.RepositoryPoller)_server.Server.Services.GetService(typeof(Turbine.Server.Hosting.RepositoryPoller))!;
        var features = Floats(9, 4);
        Assert.Equal(await ProbabilitiesAsync("mlp_a", features), await ProbabilitiesAsync("poll_ensemble", features, "P"));

        File.WriteAllText(Path.Combine(folder, "config.pbtxt"), Config("mlp_b"));
        for (var scan = 0; scan < 3; scan++)
        {
            await poller.NextScanAsync(); // settled means seen the same by two scans after the write
        }

        Assert.Equal(await ProbabilitiesAsync("mlp_b", features), await ProbabilitiesAsync("poll_ensemble", features, "P"));
        Directory.Delete(folder, recursive: true);
        await poller.NextScanAsync();
        await poller.NextScanAsync();
        await InferAsync("poll_ensemble", """{"inputs":[{"name":"F","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}""", HttpStatusCode.NotFound, "poll_ensemble");
    }

    [Fact]
    public async Task Bad_pipelines_and_bad_requests_get_clear_errors_and_the_server_keeps_serving()
    {
        await StartAsync();
        await PutAsync("ensemble", Ensemble.Replace("\"model\": \"mlp_c\"", "\"model\": \"nope\"", StringComparison.Ordinal), HttpStatusCode.BadRequest, "not in the repository");
        await PutAsync("ensemble", Ensemble.Replace("\"output\": \"label\"", "\"output\": \"probs\"", StringComparison.Ordinal), HttpStatusCode.BadRequest, "produced by both");
        await PutAsync("loop", """{"steps":[{"name":"a","model":"mlp_a","input_map":{"features":"t2"},"output_map":{"probabilities":"t1"}},{"name":"b","model":"mlp_b","input_map":{"features":"t1"},"output_map":{"probabilities":"t2"}}]}""", HttpStatusCode.BadRequest, "a cycle");
        await PutAsync("mlp_a", Switch, HttpStatusCode.BadRequest, "a name of its own");
        await PutAsync("tiered", """{"steps":[{"name":"x","model":"mlp_a","switch":{}}]}""", HttpStatusCode.BadRequest, "exactly one of");
        await PutAsync("tiered", Switch.Replace(", \"default\": { \"model\": \"mlp_b\" }", "", StringComparison.Ordinal), HttpStatusCode.OK);

        await InferAsync("tiered", """{"inputs":[{"name":"features","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}],"parameters":{"tier":"bronze"}}""", HttpStatusCode.BadRequest, "step 'pick': no case for parameter 'tier'");
        await InferAsync("tiered", """{"inputs":[{"name":"other","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}""", HttpStatusCode.BadRequest, "is not an input of pipeline 'tiered'");
        await InferAsync("tiered", """{"inputs":[{"name":"features","datatype":"FP32","shape":[1,3],"data":[1,2,3]}],"parameters":{"tier":"gold"}}""", HttpStatusCode.BadRequest, "step 'pick': model 'mlp_a'");
        await InferAsync("tiered", """{"inputs":[{"name":"features","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}],"parameters":{"tier":"gold"},"outputs":[{"name":"nope"}]}""", HttpStatusCode.BadRequest, "is not an output");
        await InferAsync("tiered", """{"inputs":[{"name":"features","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}],"parameters":{"tier":"gold"}}""", HttpStatusCode.OK, "\"name\":\"probs\"");

        var listed = await CliProcess.RunAsync("pipelines", "list", "--url", _server.Http.BaseAddress!.ToString());
        Assert.Contains("tiered", listed, StringComparison.Ordinal);
        Assert.Contains("pick (switch)", listed, StringComparison.Ordinal);
        Assert.Contains(await _client.GetPipelinesAsync(), p => p.Name == "tiered" && p.Steps.SequenceEqual(["pick (switch)"]));
        await CliProcess.RunAsync("pipelines", "delete", "tiered", "--url", _server.Http.BaseAddress!.ToString());
        await InferAsync("tiered", """{"inputs":[{"name":"features","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}""", HttpStatusCode.NotFound, "tiered");
    }

    private async Task<float[]> ProbabilitiesAsync(string model, float[] features, string output = "probabilities")
    {
        using var response = await _client.InferAsync(Request(model, (model.StartsWith("mlp", StringComparison.Ordinal) ? "features" : "F", features, [1, 4])));
        return response.Outputs.Single(o => o.Name == output).ToArray<float>();
    }

    private async Task StartAsync(Action<Turbine.Server.Hosting.TurbineServerOptions>? configure = null)
    {
        _server.Folder
            .Add("prep", SampleModels.AddSub(DataType.Fp32, 4))
            .Add("mlp_a", SampleModels.Mlp(seed: 1))
            .Add("mlp_b", SampleModels.Mlp(seed: 2))
            .Add("mlp_c", SampleModels.Mlp(seed: 3));
        await _server.StartAsync(configure, backend: _backend);
        _client = new TurbineHttpClient(_server.Http);
    }

    private static string Describe(JsonElement tensors) => string.Join(" ", tensors.EnumerateArray().Select(t =>
        $"{t.GetProperty("name").GetString()}:{t.GetProperty("datatype").GetString()}:[{string.Join(",", t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()))}]"));

    private static long Vote(List<float[]> scores, int row)
    {
        var winners = scores.Select(s => s.Skip(row * 3).Take(3).ToList()).Select(r => (Class: r.IndexOf(r.Max()), Scores: r)).ToList();
        return winners.GroupBy(w => w.Class)
            .OrderByDescending(g => g.Count())
            .ThenByDescending(g => scores.Sum(s => (double)s[(row * 3) + g.Key]))
            .First().Key;
    }

    private static float[] Floats(int seed, int count)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 4) - 2))];
    }

    private static InferenceRequest Request(string model, params (string Name, float[] Values, long[] Shape)[] inputs)
    {
        var request = new InferenceRequest { ModelName = model };
        foreach (var (name, values, shape) in inputs)
        {
            request.Inputs.Add(Tensor.FromArray<float>(name, shape, values));
        }

        return request;
    }

    private async Task PutAsync(string name, string json, HttpStatusCode expected, string? message = null)
    {
        using var response = await _server.Http.PutAsync($"v2/pipelines/{name}", new StringContent(json, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, body);
        Assert.Contains(message ?? "", body, StringComparison.Ordinal);
    }

    private async Task InferAsync(string name, string json, HttpStatusCode expected, string message)
    {
        using var response = await _server.Http.PostAsync($"v2/models/{name}/infer", new StringContent(json, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, body);
        Assert.Contains(message, body, StringComparison.Ordinal);
    }

    private async Task<JsonElement> StatsAsync(string name)
    {
        using var document = JsonDocument.Parse(await _server.Http.GetStringAsync($"v2/pipelines/{name}/stats"));
        return document.RootElement.Clone();
    }

    private async Task<string> MetricsAsync()
    {
        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_server.Server.MetricsPort}/") };
        return await metrics.GetStringAsync("metrics");
    }
}
