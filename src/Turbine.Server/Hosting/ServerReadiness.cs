using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Turbine.Core.Lifecycle;

namespace Turbine.Server.Hosting;

/// <summary>
/// The server's readiness: false until the startup load finished, false at once when shutdown begins
/// (SECURITY.md F2), and, with strict readiness, false while any model failed to load.
/// </summary>
public sealed class ServerReadiness
{
    private readonly ModelManager _models;
    private readonly bool _strict;
    private volatile bool _loaded;
    private volatile bool _stopping;

    /// <summary>Creates the readiness tracker.</summary>
    public ServerReadiness(ModelManager models, IOptions<TurbineServerOptions> options, IHostApplicationLifetime lifetime)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(lifetime);
        _models = models;
        _strict = options.Value.StrictReadiness;
        lifetime.ApplicationStopping.Register(() => _stopping = true);
    }

    /// <summary>Whether the server should receive traffic.</summary>
    public bool IsReady => _loaded && !_stopping && (!_strict || _models.AllReady());

    /// <summary>Marks the startup load as finished.</summary>
    public void MarkLoaded() => _loaded = true;
}
