using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Turbine.Core.Lifecycle;

namespace Turbine.Server.Hosting;

/// <summary>
/// The server's readiness: false until the startup load finished, false at once when shutdown begins
/// (SECURITY.md F2), and, with strict readiness, false while any model failed to load.
/// </summary>
public sealed class ServerReadiness : IDisposable
{
    private readonly ModelManager _models;
    private readonly bool _strict;
    private readonly CancellationTokenSource _stopping = new();
    private volatile bool _loaded;

    /// <summary>Creates the readiness tracker.</summary>
    public ServerReadiness(ModelManager models, IOptions<TurbineServerOptions> options, IHostApplicationLifetime lifetime)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(lifetime);
        _models = models;
        _strict = options.Value.StrictReadiness;
        lifetime.ApplicationStopping.Register(BeginStopping);
    }

    /// <summary>The answer to a request that arrives during shutdown.</summary>
    public static InferenceError ShuttingDown { get; } = InferenceError.Unavailable("the server is shutting down; retry on another replica");

    /// <summary>Whether the server should receive traffic.</summary>
    public bool IsReady => _loaded && !IsStopping && (!_strict || _models.AllReady());

    /// <summary>Whether shutdown has begun: new inference requests are refused with 503 while in-flight ones finish.</summary>
    public bool IsStopping => _stopping.IsCancellationRequested;

    /// <summary>Cancelled when shutdown begins.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>Marks the startup load as finished.</summary>
    public void MarkLoaded() => _loaded = true;

    /// <summary>Turns readiness off for good; called first thing in a shutdown, before the listeners close.</summary>
    public void BeginStopping()
    {
        try
        {
            _stopping.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // already disposed with the host: nothing listens any more
        }
    }

    /// <inheritdoc />
    public void Dispose() => _stopping.Dispose();
}
