using System.Diagnostics;
using System.Net;
using Turbine.Client;
using Turbine.Core.Lifecycle;
using Turbine.Onnx.Tools;
using Turbine.Server.Hosting;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>SECURITY.md F2: on shutdown readiness turns false at once, new requests get 503, in-flight ones finish, and the server exits in time.</summary>
public sealed class ShutdownTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Shutdown_refuses_new_requests_with_503_and_finishes_the_ones_in_flight()
    {
        var backend = new GatedBackend();
        backend.Gate.Reset();
        await using var server = new FolderServer();
        using var openGate = new GateOpener(backend); // disposed before the server: a failed assertion must not leave a run held
        server.Folder.Add("simple", SampleModels.AddSub(DataType.Int32, 4));
        await server.StartAsync(
            options =>
            {
                options.ExitTimeout = Patience;
                options.ShutdownDelay = TimeSpan.FromSeconds(2);
            },
            backend);
        var readiness = (ServerReadiness)server.Server.Services.GetService(typeof(ServerReadiness))!;
        var stoppingSignal = new TaskCompletionSource();
        readiness.Stopping.Register(stoppingSignal.SetResult);
        var client = new TurbineHttpClient(server.Http);
        var inFlight = client.InferAsync(AddSubRequests.Create("simple"));
        Assert.True(await backend.Entered.WaitAsync(Patience));

        var stopping = server.Server.StopAsync();
        await stoppingSignal.Task.WaitAsync(Patience);

        using (var late = new HttpClient { BaseAddress = server.Http.BaseAddress, Timeout = TimeSpan.FromSeconds(5) })
        {
            using var ready = await late.GetAsync("v2/health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            using var refused = await late.PostAsync("v2/models/simple/infer", AddSubRequests.Content());
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Contains("shutting down", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.False(stopping.IsCompleted);
        backend.Gate.Set();
        using var answered = await inFlight;
        Assert.Equal([2, 3, 4, 5], answered.Outputs.Single(o => o.Name == "OUTPUT0").ToArray<int>());
        await stopping.WaitAsync(Patience);
        await server.Server.StopAsync().WaitAsync(Patience); // stopping again is a no-op
    }

    [Fact]
    public async Task A_model_run_that_never_returns_does_not_outlive_the_exit_timeout()
    {
        var backend = new GatedBackend();
        backend.Gate.Reset();
        await using var server = new FolderServer();
        server.Folder.Add("simple", SampleModels.AddSub(DataType.Int32, 4));
        await server.StartAsync(options => options.ExitTimeout = TimeSpan.FromSeconds(1), backend);
        var stuck = new TurbineHttpClient(server.Http).InferAsync(AddSubRequests.Create("simple"));
        Assert.True(await backend.Entered.WaitAsync(Patience));

        var clock = Stopwatch.StartNew();
        await server.Server.StopAsync().WaitAsync(Patience);

        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        backend.Gate.Set(); // lets the worker thread end
        await Assert.ThrowsAnyAsync<Exception>(() => stuck);
    }

    private sealed class GateOpener(GatedBackend backend) : IDisposable
    {
        public void Dispose() => backend.Gate.Set();
    }

    [Fact]
    public async Task Stopping_turns_readiness_false_and_releases_the_models()
    {
        using var repository = new TestRepository().Add("simple", SampleModels.AddSub());
        var server = await ServerFixture.StartAsync(repository.Root);
        var readiness = (ServerReadiness)server.Services.GetService(typeof(ServerReadiness))!;
        var models = (ModelManager)server.Services.GetService(typeof(ModelManager))!;
        using (var client = new TurbineHttpClient(new Uri($"http://127.0.0.1:{server.HttpPort}/")))
        {
            Assert.True(await client.IsServerReadyAsync());
        }

        await server.StopAsync();

        Assert.False(readiness.IsReady);
        Assert.Equal(ModelState.Unavailable, Assert.Single(models.Index(false)).State);
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Strict_readiness_is_false_while_a_model_failed_to_load()
    {
        using var repository = new TestRepository().Add("simple", SampleModels.AddSub()).Add("corrupt", [1, 2, 3]);
        await using var lenient = await ServerFixture.StartAsync(repository.Root);
        await using var strict = await ServerFixture.StartAsync(repository.Root, options => options.StrictReadiness = true);
        using var http = new HttpClient();

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{lenient.HttpPort}/v2/health/ready")).StatusCode);
        using var response = await http.GetAsync($"http://127.0.0.1:{strict.HttpPort}/v2/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("""{"ready":false}""", await response.Content.ReadAsStringAsync());
    }
}
