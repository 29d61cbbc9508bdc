using Microsoft.Extensions.Options;
using Turbine.Registry;
using Turbine.Server.Hosting;

namespace Turbine.Server.Registry;

/// <summary>The server's registry (from <c>Turbine:Registry</c>), opened once on first use and shared by the follower and the API.</summary>
public sealed class RegistryProvider(IOptions<TurbineServerOptions> options, TimeProvider time) : IDisposable
{
    private readonly SemaphoreSlim _opening = new(1, 1);
    private ModelRegistry? _registry;

    /// <summary>Whether a registry is configured.</summary>
    public bool Configured => options.Value.Registry.Folder is not null;

    /// <summary>The registry, its schema brought up to date on first use.</summary>
    public async Task<ModelRegistry> GetAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _registry) is { } open)
        {
            return open;
        }

        await _opening.WaitAsync(cancellationToken);
        try
        {
            var settings = options.Value.Registry;
            return _registry ??= await RegistryDatabases.OpenAsync(settings.Folder!, settings.Postgres, settings.S3, time, cancellationToken);
        }
        finally
        {
            _opening.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _opening.Dispose();
}
