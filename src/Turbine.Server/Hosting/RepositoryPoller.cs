using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Turbine.Core.Lifecycle;
using Turbine.Core.Repository;

namespace Turbine.Server.Hosting;

/// <summary>
/// Model control mode <c>poll</c>: scans the repository every interval. A model folder that changed is reloaded once
/// it has stayed the same for a whole interval (so a version still being copied is never loaded half-written); a new
/// folder is loaded the same way; a removed one is unloaded. A reload that fails leaves the previous load serving.
/// Triton ensemble folders are read again as pipelines the same way.
/// </summary>
public sealed partial class RepositoryPoller(
    ModelManager models, EnsembleCatalog ensembles, IOptions<TurbineServerOptions> options, TimeProvider time, ILogger<RepositoryPoller> logger) : BackgroundService
{
    private readonly Dictionary<string, string> _loaded = new(StringComparer.Ordinal);
    private Dictionary<string, string> _lastSeen = new(StringComparer.Ordinal);
    private TaskCompletionSource _scanned = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the next scan, and whatever it loaded or unloaded, has finished.</summary>
    public Task NextScanAsync() => Volatile.Read(ref _scanned).Task;

    /// <summary>Records what the startup load saw, so that the first scan reloads nothing unchanged.</summary>
    internal void Baseline(Dictionary<string, string> fingerprints)
    {
        foreach (var (name, fingerprint) in fingerprints)
        {
            _loaded[name] = fingerprint;
        }

        _lastSeen = fingerprints;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RepositoryPollInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await ScanAsync(stoppingToken);
                Interlocked.Exchange(ref _scanned, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).SetResult();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // shutting down
        }
    }

    private async Task ScanAsync(CancellationToken cancellationToken)
    {
        var seen = RepositoryScan.Take(models.Repository);
        foreach (var (name, fingerprint) in seen)
        {
            var changed = !_loaded.TryGetValue(name, out var loaded) || loaded != fingerprint;
            var settled = _lastSeen.TryGetValue(name, out var previous) && previous == fingerprint;
            if (changed && settled)
            {
                LogReloading(logger, name);
                if (ensembles.Handles(name, configOverride: null))
                {
                    ensembles.Load(name, configOverride: null);
                }
                else
                {
                    await models.LoadAsync(name, cancellationToken);
                }

                _loaded[name] = fingerprint;
            }
        }

        foreach (var name in _loaded.Keys.Where(n => !seen.ContainsKey(n)).ToList())
        {
            LogRemoved(logger, name);
            if (!ensembles.Unload(name)) // not an ensemble: a model
            {
                await models.UnloadAsync(name, cancellationToken);
            }

            _loaded.Remove(name);
        }

        _lastSeen = seen;
    }

    [LoggerMessage(EventId = LogEvents.RepositoryChanged, Level = LogLevel.Information, Message = "Model '{Model}' changed in the repository; loading it")]
    private static partial void LogReloading(ILogger logger, string model);

    [LoggerMessage(EventId = LogEvents.RepositoryRemoved, Level = LogLevel.Information, Message = "Model '{Model}' left the repository; unloading it")]
    private static partial void LogRemoved(ILogger logger, string model);
}
