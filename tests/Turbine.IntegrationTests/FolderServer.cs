using Turbine.Server.Hosting;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>A real server over a repository folder of the test's own, with an HttpClient on its REST port.</summary>
internal sealed class FolderServer : IAsyncDisposable
{
    public TestRepository Folder { get; } = new();

    public TurbineServer Server { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    /// <summary>Configuration the server starts with, as command-line pairs (<c>--Turbine:Routes:r:variants:0:model=m</c>).</summary>
    public List<string> Configuration { get; } = [];

    /// <summary>Starts the server once the test has filled <see cref="Folder"/>.</summary>
    public async Task StartAsync(Action<TurbineServerOptions>? configure = null, IModelBackend? backend = null, Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services = null)
    {
        Server = await ServerFixture.StartAsync(Folder.Root, configure, backend, services, Configuration);
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Server.HttpPort}/") };
    }

    /// <summary>A request with an optional JSON body and bearer token.</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? body, string? token = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        }

        if (token is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        return await Http.SendAsync(request);
    }

    /// <summary>A GET that must answer 200 (the body is in the failure message otherwise), as JSON.</summary>
    public async Task<System.Text.Json.JsonElement> GetJsonAsync(string path)
    {
        using var response = await SendAsync(HttpMethod.Get, path, null);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.OK, text);
        return System.Text.Json.JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>The server's /metrics text, from its metrics port.</summary>
    public async Task<string> MetricsAsync()
    {
        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Server.MetricsPort}/") };
        return await metrics.GetStringAsync("metrics");
    }

    public async ValueTask DisposeAsync()
    {
        Http?.Dispose();
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }

        Folder.Dispose();
    }
}
