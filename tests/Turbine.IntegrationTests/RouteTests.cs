using System.Net;
using System.Text;
using Grpc.Net.Client;
using Turbine.Client;
using Turbine.Onnx.Tools;
using Turbine.Protocols.Grpc;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>Routes on a real server: weighted splits, sticky keys, the variant in every response, the API and persistence.</summary>
public sealed class RouteTests : IAsyncLifetime
{
    private const string Split = """{"variants":[{"model":"blue","weight":70},{"model":"green","version":"1","weight":30}]}""";
    private readonly FolderServer _server = new();

    public async Task InitializeAsync()
    {
        // Two models with the same signature; the response's model name tells which one answered.
        _server.Folder.Add("blue", SampleModels.AddSub(DataType.Int32, 4)).Add("green", SampleModels.AddSub(DataType.Int32, 4))
            .Add("floaty", SampleModels.AddSub(DataType.Fp32, 4));
        await _server.StartAsync();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_weighted_route_splits_rest_traffic_within_tolerance_and_names_the_variant()
    {
        await PutAsync("checkout", Split, HttpStatusCode.OK);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        const int Requests = 1000;

        for (var i = 0; i < Requests; i++)
        {
            using var response = await _server.Http.PostAsync("v2/models/checkout/infer", Body(null));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var variant = response.Headers.GetValues("Turbine-Variant").Single();
            var json = await response.Content.ReadAsStringAsync();
            Assert.Contains($"\"turbine_variant\":\"{variant}\"", json, StringComparison.Ordinal);
            Assert.Contains("\"turbine_route\":\"checkout\"", json, StringComparison.Ordinal);
            Assert.Contains($"\"model_name\":\"{variant.Split(':')[0]}\"", json, StringComparison.Ordinal);
            counts[variant] = counts.GetValueOrDefault(variant) + 1;
        }

        // 30% of 1000: standard deviation 14.5 requests; 4 sigma is 58.
        Assert.InRange(counts.GetValueOrDefault("green:1"), 300 - 58, 300 + 58);
        Assert.Equal(Requests, counts.Values.Sum());
        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_server.Server.MetricsPort}/") };
        Assert.Contains($"turbine_route_requests_total{{route=\"checkout\",variant=\"green:1\"}} {counts["green:1"]}", await metrics.GetStringAsync("metrics"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_sticky_parameter_keeps_a_caller_in_one_arm_over_rest_and_grpc()
    {
        await PutAsync("checkout", Split.Replace("}]}", "}],\"sticky_parameter\":\"user\"}", StringComparison.Ordinal), HttpStatusCode.OK);
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_server.Server.GrpcPort}");
        var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(channel);

        for (var user = 0; user < 20; user++)
        {
            var arms = new HashSet<string>(StringComparer.Ordinal);
            for (var call = 0; call < 5; call++)
            {
                using var response = await _server.Http.PostAsync("v2/models/checkout/infer", Body($"u{user}"));
                arms.Add(response.Headers.GetValues("Turbine-Variant").Single());
                var message = TurbineGrpcClient.ToMessage(AddSubRequests.Create("checkout"));
                message.Parameters["user"] = new InferParameter { StringParam = $"u{user}" };
                arms.Add((await grpc.ModelInferAsync(message)).Parameters["turbine_variant"].StringParam);
            }

            Assert.Single(arms);
        }
    }

    [Fact]
    public async Task A_sticky_header_keeps_a_caller_in_one_arm_over_rest_and_grpc_metadata()
    {
        await PutAsync("checkout", Split.Replace("}]}", "}],\"sticky_header\":\"X-User-Id\"}", StringComparison.Ordinal), HttpStatusCode.OK);
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_server.Server.GrpcPort}");
        var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        var armsSeen = new HashSet<string>(StringComparer.Ordinal);

        for (var user = 0; user < 20; user++)
        {
            var arms = new HashSet<string>(StringComparer.Ordinal);
            for (var call = 0; call < 5; call++)
            {
                using var message = new HttpRequestMessage(HttpMethod.Post, "v2/models/checkout/infer") { Content = Body(null) };
                message.Headers.Add("X-User-Id", $"u{user}");
                using var response = await _server.Http.SendAsync(message);
                arms.Add(response.Headers.GetValues("Turbine-Variant").Single());
                var reply = await grpc.ModelInferAsync(TurbineGrpcClient.ToMessage(AddSubRequests.Create("checkout")), new Grpc.Core.Metadata { { "x-user-id", $"u{user}" } });
                arms.Add(reply.Parameters["turbine_variant"].StringParam);
            }

            Assert.Single(arms);
            armsSeen.UnionWith(arms);
        }

        Assert.Equal(2, armsSeen.Count); // 20 users at 70/30 land in both arms (all in one: 0.7^20 + 0.3^20, under 0.1%)
    }

    [Fact]
    public async Task Routes_and_pipelines_declared_in_the_server_configuration_serve_and_the_api_wins_over_them()
    {
        await using var configured = new FolderServer();
        configured.Folder.Add("blue", SampleModels.AddSub(DataType.Int32, 4)).Add("green", SampleModels.AddSub(DataType.Int32, 4));
        configured.Configuration.AddRange(
        [
            "--Turbine:Pipelines:twice:steps:0:name=first", "--Turbine:Pipelines:twice:steps:0:model=blue",
            "--Turbine:Pipelines:twice:steps:0:input_map:INPUT0=a", "--Turbine:Pipelines:twice:steps:0:input_map:INPUT1=b",
            "--Turbine:Pipelines:twice:steps:0:output_map:OUTPUT0=sum",
            "--Turbine:Routes:configured:variants:0:model=green", "--Turbine:Routes:configured:variants:0:version=1",
            "--Turbine:Routes:configured:variants:0:weight=1", "--Turbine:Routes:configured:sticky_header=X-User",
            "--Turbine:Routes:broken:variants:0:model=nope", // logged and skipped; the server still starts
        ]);
        await configured.StartAsync();

        using (var routed = await configured.Http.PostAsync("v2/models/configured/infer", Body(null)))
        {
            Assert.Equal(HttpStatusCode.OK, routed.StatusCode);
            Assert.Equal("green:1", routed.Headers.GetValues("Turbine-Variant").Single());
        }

        var pipelineBody = """{"inputs":[{"name":"a","shape":[1,4],"datatype":"INT32","data":[1,2,3,4]},{"name":"b","shape":[1,4],"datatype":"INT32","data":[10,20,30,40]}]}""";
        using (var piped = await configured.Http.PostAsync("v2/models/twice/infer", new StringContent(pipelineBody, Encoding.UTF8, "application/json")))
        {
            Assert.Contains("\"name\":\"sum\",\"datatype\":\"INT32\",\"shape\":[1,4],\"data\":[11,22,33,44]", await piped.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var broken = await configured.Http.PostAsync("v2/models/broken/infer", Body(null)))
        {
            Assert.Equal(HttpStatusCode.NotFound, broken.StatusCode);
        }

        Assert.False(File.Exists(Path.Combine(configured.Folder.Root, ".turbine", "routes", "configured.json"))); // declared, not saved
        using var put = await configured.Http.PutAsync("v2/routes/configured", new StringContent("""{"variants":[{"model":"blue"}]}""", Encoding.UTF8, "application/json"));
        using var afterPut = await configured.Http.PostAsync("v2/models/configured/infer", Body(null));
        Assert.Equal("blue", afterPut.Headers.GetValues("Turbine-Variant").Single());
    }

    [Fact]
    public async Task Routes_are_validated_listed_deleted_and_survive_a_restart()
    {
        await PutAsync("blue", Split, HttpStatusCode.BadRequest);                                            // a model's name
        await PutAsync("checkout", """{"variants":[{"model":"nope"}]}""", HttpStatusCode.BadRequest);       // unknown model
        await PutAsync("checkout", """{"variants":[{"model":"blue","weight":"x"}]}""", HttpStatusCode.BadRequest);
        await PutAsync("checkout", """{"variants":[{"model":"blue"},{"model":"floaty"}]}""", HttpStatusCode.BadRequest, "INPUT0:FP32 INPUT1:FP32 -> OUTPUT0:FP32 OUTPUT1:FP32) and 'blue'");
        await PutAsync("checkout", Split, HttpStatusCode.OK);
        using (var versioned = await _server.Http.PostAsync("v2/models/checkout/versions/1/infer", Body(null)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, versioned.StatusCode);
        }

        var client = new TurbineHttpClient(_server.Http);
        Assert.True(await client.IsModelReadyAsync("checkout"));
        Assert.Equal("blue", (await client.GetModelMetadataAsync("checkout")).Name); // the first variant answers for the route

        // A second server over the same repository reads the routes the first one saved.
        await using var restarted = await ServerFixture.StartAsync(_server.Folder.Root);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{restarted.HttpPort}/") };
        Assert.Contains("\"name\":\"checkout\"", await http.GetStringAsync("v2/routes"), StringComparison.Ordinal);
        using (var served = await http.PostAsync("v2/models/checkout/infer", Body(null)))
        {
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await http.DeleteAsync("v2/routes/checkout")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.DeleteAsync("v2/routes/checkout")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.PostAsync("v2/models/checkout/infer", Body(null))).StatusCode);
        Assert.Contains("checkout", await CliProcess.RunAsync("routes", "set", "checkout", "--variant", "blue=3", "--variant", "green:1=1", "--url", http.BaseAddress!.ToString()), StringComparison.Ordinal);
        Assert.Matches(@"checkout\s+blue=3, green:1=1", await CliProcess.RunAsync("routes", "list", "--url", http.BaseAddress!.ToString()));
        Assert.Contains("\"weight\": 3", await CliProcess.RunAsync("routes", "list", "--json", "--url", http.BaseAddress!.ToString()), StringComparison.Ordinal);
        var listed = Assert.Single(await new TurbineHttpClient(http).GetRoutesAsync());
        Assert.Equal([("blue", "blue", null, 3.0), ("green:1", "green", "1", 1.0)], listed.Variants.Select(v => (v.Name, v.Model, v.Version, v.Weight)));
    }

    [Fact]
    public async Task Feedback_by_request_id_feeds_a_report_with_intervals_and_tests()
    {
        await PutAsync("checkout", """{"variants":[{"model":"blue","weight":50},{"model":"green","weight":50}]}""", HttpStatusCode.OK);
        var client = new TurbineHttpClient(_server.Http);
        var served = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < 400; i++)
        {
            using var request = AddSubRequests.Create("checkout");
            using var response = await client.InferAsync(request);
            var variant = (string)response.Parameters!["turbine_variant"];
            served[variant] = served.GetValueOrDefault(variant) + 1;
            // green converts twice as often as blue, and its values are higher
            var converted = variant == "green" ? i % 10 < 6 : i % 10 < 3;
            await client.SendFeedbackAsync("checkout", response.Id!, converted, variant == "green" ? 10 + (i % 5) : 8 + (i % 5));
        }

        var missing = await Assert.ThrowsAsync<TurbineClientException>(() => client.SendFeedbackAsync("checkout", "never-served", true, null));
        Assert.Equal(404, missing.HttpStatus);
        var empty = await Assert.ThrowsAsync<TurbineClientException>(() => client.SendFeedbackAsync("checkout", "x", null, null));
        Assert.Equal(400, empty.HttpStatus);

        var report = await client.GetRouteReportAsync("checkout");
        var arms = report.Arms;
        Assert.Equal(["blue", "green"], arms.Select(a => a.Variant));
        Assert.Equal(served["blue"], arms[0].Requests);
        Assert.Equal(served["green"], arms[1].Conversions.Trials);
        Assert.True(arms[1].Conversions.PVsBaseline < 0.001);
        Assert.True(arms[1].Values.PVsBaseline < 0.001);
        Assert.Null(arms[0].Conversions.PVsBaseline); // the baseline is not tested against itself
        Assert.InRange(0.6, arms[1].Conversions.Ci95Low!.Value, arms[1].Conversions.Ci95High!.Value);
        Assert.Contains("green", await CliProcess.RunAsync("routes", "report", "checkout", "--url", _server.Http.BaseAddress!.ToString()), StringComparison.Ordinal);

        // The experiment survives a restart: the figures are checkpointed at shutdown and read back at start.
        await _server.Server.StopAsync();
        await _server.Server.DisposeAsync();
        await _server.StartAsync();
        var after = await new TurbineHttpClient(_server.Http).GetRouteReportAsync("checkout");
        Assert.Equal(report.Arms, after.Arms);
    }

    [Fact]
    public async Task A_variant_over_its_deadline_is_answered_by_the_fallback()
    {
        var backend = new GatedBackend { HeldModels = ["slow"] };
        backend.Gate.Reset();
        await using var server = new FolderServer();
        server.Folder.Add("slow", SampleModels.AddSub(DataType.Int32, 4), """{ "max_batch_size": 8, "dynamic_batching": {} }""")
            .Add("steady", SampleModels.AddSub(DataType.Int32, 4));
        await server.StartAsync(backend: backend);
        try
        {
            using (var put = await server.Http.PutAsync("v2/routes/checkout", new StringContent(
                """{"variants":[{"model":"slow"}],"resilience":{"timeout_ms":200,"fallback":[{"model":"steady"}]}}""", Encoding.UTF8, "application/json")))
            {
                Assert.Equal(HttpStatusCode.OK, put.StatusCode);
            }

            var client = new TurbineHttpClient(server.Http);
            var holder = client.InferAsync(AddSubRequests.Create("slow")); // occupies the slow model's only instance
            Assert.True(await backend.Entered.WaitAsync(TimeSpan.FromSeconds(30)));

            var clock = System.Diagnostics.Stopwatch.StartNew();
            using var response = await server.Http.PostAsync("v2/models/checkout/infer", Body(null));

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("fallback:steady", response.Headers.GetValues("Turbine-Variant").Single());
            Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(150), TimeSpan.FromSeconds(5));
            backend.Gate.Set();
            (await holder).Dispose();
        }
        finally
        {
            backend.Gate.Set();
        }
    }

    private async Task PutAsync(string name, string json, HttpStatusCode expected, string? message = null)
    {
        using var response = await _server.Http.PutAsync($"v2/routes/{name}", new StringContent(json, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, body);
        Assert.Contains(message ?? "", body, StringComparison.Ordinal);
    }

    private static StringContent Body(string? user) => new(
        $$"""{"inputs":[{"name":"INPUT0","shape":[1,4],"datatype":"INT32","data":[1,2,3,4]},{"name":"INPUT1","shape":[1,4],"datatype":"INT32","data":[1,1,1,1]}]{{(user is null ? "" : $",\"parameters\":{{\"user\":\"{user}\"}}")}}}""",
        Encoding.UTF8,
        "application/json");
}
