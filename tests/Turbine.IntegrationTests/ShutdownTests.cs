using System.Net;
using Turbine.Client;
using Turbine.Core.Lifecycle;
using Turbine.Onnx.Graph;
using Turbine.Server.Hosting;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>SECURITY.md F2: on shutdown readiness turns false at once and the server exits.</summary>
public sealed class ShutdownTests
{
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
