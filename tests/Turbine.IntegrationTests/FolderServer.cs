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
