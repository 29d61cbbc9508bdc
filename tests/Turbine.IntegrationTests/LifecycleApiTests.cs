using System.Net;
using System.Text;
using Turbine.Client;
using Turbine.Onnx.Tools;
using Turbine.Server.Hosting;

namespace Turbine.IntegrationTests;

/// <summary>Version routing over REST, gRPC and the CLI, and the three model control modes on a real server.</summary>
public sealed class LifecycleApiTests : IAsyncLifetime
{
    private const string KeepTwo = """{ "max_batch_size": 8, "version_policy": { "latest": { "num_versions": 2 } } }""";
    private readonly FolderServer _server = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Rollback_default_and_labels_route_requests_over_rest_grpc_and_the_cli()
    {
        AddSimple(1, KeepTwo);
        AddSimple(2);
        await _server.StartAsync();
        var client = new TurbineHttpClient(_server.Http);
        var url = _server.Http.BaseAddress!.ToString();

        Assert.Equal("2", await ServedVersionAsync(client, null));
        Assert.Contains("default 1 (pinned)", await CliProcess.RunAsync("models", "rollback", "simple", "--url", url), StringComparison.Ordinal);
        Assert.Equal("1", await ServedVersionAsync(client, null));

        Assert.Contains("canary           -> 2", await CliProcess.RunAsync("models", "label", "simple", "canary", "2", "--url", url), StringComparison.Ordinal);
        Assert.Equal("2", await ServedVersionAsync(client, "canary"));
        using (var grpc = new TurbineGrpcClient(new Uri($"http://127.0.0.1:{_server.Server.GrpcPort}")))
        {
            Assert.Equal("2", await ServedVersionAsync(grpc, "canary"));
            Assert.Equal("1", await ServedVersionAsync(grpc, null));
        }

        var view = await client.SetDefaultVersionAsync("simple", null);
        Assert.Equal(2, view.DefaultVersion);
        Assert.False(view.Pinned);
        view = await client.SetLabelAsync("simple", "canary", null);
        Assert.Empty(view.Labels);
        var (code, _) = await CliProcess.RunRawAsync("models", "default", "simple", "9", "--url", url);
        Assert.Equal(1, code);
    }

    [Theory]
    [InlineData("PUT", "v2/repository/models/simple/default", "{\"version\": -1}", HttpStatusCode.BadRequest)]
    [InlineData("PUT", "v2/repository/models/simple/default", "{\"version\": \"1e3\"}", HttpStatusCode.BadRequest)]
    [InlineData("PUT", "v2/repository/models/simple/default", "[1]", HttpStatusCode.BadRequest)]
    [InlineData("PUT", "v2/repository/models/simple/labels/9lives", "{\"version\": 1}", HttpStatusCode.BadRequest)]
    [InlineData("PUT", "v2/repository/models/simple/labels/stable", "{\"version\": 5}", HttpStatusCode.BadRequest)]
    [InlineData("POST", "v2/repository/models/..%2Fetc/rollback", "", HttpStatusCode.NotFound)]
    [InlineData("GET", "v2/repository/models/nope/versions", "", HttpStatusCode.NotFound)]
    [InlineData("POST", "v2/repository/models/simple/rollback", "", HttpStatusCode.BadRequest)]
    public async Task Bad_routing_requests_get_clear_errors(string method, string path, string body, HttpStatusCode expected)
    {
        AddSimple(1);
        await _server.StartAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body.Length > 0)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await _server.Http.SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
        Assert.StartsWith("{\"error\":", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("1", await ServedVersionAsync(new TurbineHttpClient(_server.Http), null));
    }

    [Fact]
    public async Task With_the_server_defaults_the_repository_api_is_off_and_models_are_fixed()
    {
        AddSimple(1);
        await _server.StartAsync(options =>
        {
            var defaults = new TurbineServerOptions();
            options.Management = defaults.Management;
            options.ModelControlMode = defaults.ModelControlMode;
        });

        using var load = await _server.Http.PostAsync("v2/repository/models/simple/load", null);
        Assert.Equal(HttpStatusCode.Forbidden, load.StatusCode);
        using var index = await _server.Http.PostAsync("v2/repository/index", null); // read-only metadata answers, as in Triton
        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.Equal(ModelControlMode.None, new TurbineServerOptions().ModelControlMode);
        Assert.Equal("1", await ServedVersionAsync(new TurbineHttpClient(_server.Http), null));
    }

    [Fact]
    public async Task Mode_none_refuses_load_and_unload()
    {
        AddSimple(1);
        await _server.StartAsync(options => options.ModelControlMode = ModelControlMode.None);
        var client = new TurbineHttpClient(_server.Http);

        var error = await Assert.ThrowsAsync<TurbineClientException>(() => client.UnloadModelAsync("simple"));

        Assert.Equal(400, error.HttpStatus);
        Assert.Contains("model control mode is 'none'", error.Message, StringComparison.Ordinal);
        Assert.Equal("1", await ServedVersionAsync(client, null));
    }

    [Fact]
    public async Task Mode_explicit_loads_only_the_listed_models_and_honours_a_config_override()
    {
        AddSimple(1);
        _server.Folder.Add("other", SampleModels.AddSub(DataType.Int32, 4));
        await _server.StartAsync(options => options.LoadModels = ["simple"]);
        var client = new TurbineHttpClient(_server.Http);
        Assert.False(await client.IsModelReadyAsync("other"));
        var neverLoaded = (await client.GetRepositoryIndexAsync()).Single(m => m.Name == "other");
        Assert.Equal(("UNAVAILABLE", "not loaded: the model control mode is explicit and no load asked for it (POST /v2/repository/models/{name}/load)"), (neverLoaded.State, neverLoaded.Reason));

        await client.LoadModelAsync("other", """{ "max_batch_size": 2 }""");

        Assert.Contains("\"max_batch_size\":2", await client.GetModelConfigJsonAsync("other"), StringComparison.Ordinal);
        var bad = await Assert.ThrowsAsync<TurbineClientException>(() => client.LoadModelAsync("other", "{ nope"));
        Assert.Equal(400, bad.HttpStatus);
        Assert.True(await client.IsModelReadyAsync("other")); // the failed load left the previous one serving

        var file = Path.Combine(_server.Folder.Root, "..", Guid.NewGuid().ToString("N") + ".json");
        await File.WriteAllTextAsync(file, """{ "max_batch_size": 4 }""");
        try
        {
            Assert.Contains("other loaded", await CliProcess.RunAsync("models", "load", "other", "--config", file, "--url", _server.Http.BaseAddress!.ToString()), StringComparison.Ordinal);
            Assert.Contains("\"max_batch_size\":4", await client.GetModelConfigJsonAsync("other"), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Unloading_what_is_not_loaded_succeeds_and_changes_nothing()
    {
        AddSimple(1);
        _server.Folder.Add("idle", SampleModels.AddSub(DataType.Int32, 4));
        _server.Folder.Add("broken", [0x0A, 0x03, 0x01, 0x02]);
        var ensemble = Path.Combine(_server.Folder.Root, "idle_ensemble");
        Directory.CreateDirectory(Path.Combine(ensemble, "1"));
        File.WriteAllText(Path.Combine(ensemble, "config.pbtxt"), """
            platform: "ensemble"
            output [ { name: "SUM" data_type: TYPE_INT32 dims: [ 4 ] } ]
            ensemble_scheduling { step [ { model_name: "simple" model_version: -1 input_map { key: "INPUT0" value: "A" } input_map { key: "INPUT1" value: "B" } output_map { key: "OUTPUT0" value: "SUM" } } ] }
            """);
        await _server.StartAsync(options => options.LoadModels = ["simple", "broken"]);
        var client = new TurbineHttpClient(_server.Http);
        var failedLoad = (await client.GetRepositoryIndexAsync()).Single(m => m.Name == "broken");
        await client.UnloadModelAsync("idle_ensemble"); // ensembles serve from the start; now it is not loaded either
        var before = await client.GetRepositoryIndexAsync();

        foreach (var name in new[] { "idle", "idle_ensemble", "broken" })
        {
            await client.UnloadModelAsync(name); // a 200, as Triton answers
            await client.UnloadModelAsync(name);
        }

        Assert.Equal(before, await client.GetRepositoryIndexAsync());
        Assert.Contains(failedLoad, before); // the failed load's reason stays
        Assert.NotEmpty(failedLoad.Reason);
        Assert.Equal("1", await ServedVersionAsync(client, null));
        var unknown = await Assert.ThrowsAsync<TurbineClientException>(() => client.UnloadModelAsync("never_there"));
        Assert.Equal(404, unknown.HttpStatus);
    }

    [Fact]
    public async Task Mode_poll_loads_settled_versions_and_unloads_removed_models()
    {
        AddSimple(1);
        _server.Folder.Add("doomed", SampleModels.AddSub(DataType.Int32, 4));
        await _server.StartAsync(options =>
        {
            options.ModelControlMode = ModelControlMode.Poll;
            options.RepositoryPollInterval = TimeSpan.FromMilliseconds(100);
        });
        var poller = (RepositoryPoller)_server.Server.Services.GetService(typeof(RepositoryPoller))!;
        var client = new TurbineHttpClient(_server.Http);

        // A model file still being written changes between scans and is left alone.
        var file = Path.Combine(_server.Folder.Root, "simple", "2", "model.onnx");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var model = SampleModels.AddSub(DataType.Int32, 4);
        for (var written = 1; written < 4; written++)
        {
            await File.WriteAllBytesAsync(file, model.AsMemory(0, model.Length * written / 4).ToArray());
            await poller.NextScanAsync();
            Assert.Equal("1", await ServedVersionAsync(client, null));
            Assert.DoesNotContain(await client.GetRepositoryIndexAsync(), m => m.Reason.Length > 0);
        }

        // Settled means seen the same by two scans after the write; the scan running during the write may not count.
        await File.WriteAllBytesAsync(file, model);
        for (var scan = 0; scan < 3; scan++)
        {
            await poller.NextScanAsync();
        }

        Assert.Equal("2", await ServedVersionAsync(client, null));

        Directory.Delete(Path.Combine(_server.Folder.Root, "doomed"), recursive: true);
        await poller.NextScanAsync();
        await poller.NextScanAsync();
        Assert.False(await client.IsModelReadyAsync("doomed"));
        var refused = await Assert.ThrowsAsync<TurbineClientException>(() => client.LoadModelAsync("simple"));
        Assert.Contains("polling is enabled", refused.Message, StringComparison.Ordinal);
    }

    private void AddSimple(int version, string? config = null) => _server.Folder.Add("simple", SampleModels.AddSub(DataType.Int32, 4), config, version);

    private static async Task<string> ServedVersionAsync(ITurbineClient client, string? version)
    {
        using var request = new InferenceRequest { ModelName = "simple", ModelVersion = version };
        request.Inputs.Add(Tensor.FromArray<int>("INPUT0", [1, 4], [1, 2, 3, 4]));
        request.Inputs.Add(Tensor.FromArray<int>("INPUT1", [1, 4], [1, 1, 1, 1]));
        using var response = await client.InferAsync(request);
        return response.ModelVersion;
    }
}
