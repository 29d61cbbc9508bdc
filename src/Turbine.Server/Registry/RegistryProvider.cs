using Microsoft.Extensions.Options;
using Turbine.Registry;
using Turbine.Server.Hosting;

namespace Turbine.Server.Registry;

/// <summary>The server's registry (from <c>Turbine:Registry</c>), opened once on first use and shared by the follower and the API.</summary>
public sealed class RegistryProvider(IOptions<TurbineServerOptions> options, TimeProvider time) : IDisposable
{
    private readonly OpenOnce<ModelRegistry> _registry = new();

    /// <summary>Whether a registry is configured.</summary>
    public bool Configured => options.Value.Registry.Folder is not null;

    /// <summary>The registry, its schema brought up to date on first use.</summary>
    public Task<ModelRegistry> GetAsync(CancellationToken cancellationToken) =>
        _registry.GetAsync(token =>
        {
            var settings = options.Value.Registry;
            return RegistryDatabases.OpenAsync(settings.Folder!, settings.Postgres, settings.S3, time, token);
        }, cancellationToken);

    /// <inheritdoc />
    public void Dispose() => _registry.Dispose();
}
