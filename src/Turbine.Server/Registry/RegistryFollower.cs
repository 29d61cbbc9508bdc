using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Turbine.Core.Lifecycle;
using Turbine.Registry;
using Turbine.Server.Hosting;

namespace Turbine.Server.Registry;

/// <summary>
/// Serves models from the registry: at start and every poll, each followed <c>model@alias</c> is resolved; a version
/// not served yet is materialized into the model repository (staged, digests checked, signature checked when keys are
/// trusted), the versions it replaces are moved out of the repository's view, and the model is reloaded with the
/// usual hot reload (the new version warms before it takes traffic, the old one drains). A version that fails any
/// check, or its load, is refused: the folders go back as they were, the previous version keeps serving, and the
/// refusal is in the log and the registry's audit trail. Every switch is recorded there as this replica's serving
/// change, so the trail answers what served where and when.
/// </summary>
public sealed partial class RegistryFollower(
    ModelManager models, RegistryProvider provider, IOptions<TurbineServerOptions> options, TimeProvider time, ILogger<RegistryFollower> logger) : BackgroundService
{
    private const string RetiredFolder = ".registry-retired";
    private readonly Dictionary<string, long> _serving = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _refused = new(StringComparer.Ordinal);
    private TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the next poll, and whatever it loaded, has finished.</summary>
    public Task NextSyncAsync() => Volatile.Read(ref _synced).Task;

    /// <summary>The name this server goes by in the audit trail.</summary>
    private string Replica => options.Value.ReplicaId ?? $"{Environment.MachineName}-{Environment.ProcessId}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value.Registry;
        var followed = settings.Follow.Select(f => FollowedModel.TryParse(f, out var parsed) ? parsed : throw new InvalidOperationException(f)).ToList();
        using var verifier = settings.TrustedKeys.Count > 0 ? SignatureVerifier.FromPemFiles(settings.TrustedKeys) : null;
        ModelRegistry? registry = null;
        using var timer = new PeriodicTimer(settings.PollInterval, time);
        try
        {
            do
            {
                try
                {
                    registry ??= await provider.GetAsync(stoppingToken);
                    foreach (var model in followed)
                    {
                        await FollowAsync(registry, model, verifier, stoppingToken);
                    }
                }
                catch (Exception e) when (e is System.Data.Common.DbException or IOException or RegistryException && !stoppingToken.IsCancellationRequested)
                {
                    LogUnavailable(logger, e.Message);
                }

                Interlocked.Exchange(ref _synced, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).SetResult();
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // shutting down
        }
    }

    private async Task FollowAsync(ModelRegistry registry, FollowedModel followed, SignatureVerifier? verifier, CancellationToken cancellationToken)
    {
        ModelVersion version;
        try
        {
            version = await registry.ResolveAsync(followed.Model, followed.Reference, cancellationToken);
        }
        catch (RegistryException e) when (e.NotFound)
        {
            return; // nothing to serve yet
        }

        var previous = _serving.TryGetValue(followed.Model, out var served) ? served : (long?)null;
        if (previous == version.Version || (_refused.TryGetValue(followed.Model, out var refused) && refused == version.Version))
        {
            return; // served already, or refused until the alias moves again
        }

        var repository = models.Repository.Root;
        var modelFolder = Path.Combine(repository, followed.Model);
        var retired = Path.Combine(repository, RetiredFolder, $"{followed.Model}-{Guid.NewGuid():N}");
        string? refusal = null;
        var moved = new List<string>();
        try
        {
            await registry.MaterializeAsync(version, repository, verifier, cancellationToken);
            foreach (var folder in OtherVersions(modelFolder, version.Version))
            {
                Directory.CreateDirectory(retired);
                var away = Path.Combine(retired, Path.GetFileName(folder));
                Directory.Move(folder, away);
                moved.Add(away);
            }

            refusal = (await models.LoadAsync(followed.Model, cancellationToken))?.Message;
        }
        catch (RegistryException e)
        {
            refusal = e.Message;
        }

        if (refusal is null)
        {
            _serving[followed.Model] = version.Version;
            _refused.Remove(followed.Model);
            if (Directory.Exists(retired))
            {
                Directory.Delete(retired, recursive: true);
            }

            LogServing(logger, followed, version.Version);
            await registry.Store.AppendAuditAsync(followed.Model, AuditKinds.Serving, Replica, version.Version, previous, Replica, $"following {followed}", cancellationToken);
            return;
        }

        // Put back what served; the version that failed leaves the repository's view.
        foreach (var away in moved)
        {
            Directory.Move(away, Path.Combine(modelFolder, Path.GetFileName(away)));
        }

        var failed = Path.Combine(modelFolder, version.Version.ToString(CultureInfo.InvariantCulture));
        if (Directory.Exists(failed))
        {
            Directory.Delete(failed, recursive: true);
            if (previous is not null)
            {
                await models.LoadAsync(followed.Model, cancellationToken); // the folder again as it was: what serves stays
            }
        }

        LogRefused(logger, followed, version.Version, refusal);
        await registry.Store.AppendAuditAsync(followed.Model, AuditKinds.ServingRefused, Replica, version.Version, previous, Replica, refusal, cancellationToken);
        _refused[followed.Model] = version.Version;
    }

    private static List<string> OtherVersions(string modelFolder, long keep) =>
        Directory.EnumerateDirectories(modelFolder)
            .Where(folder => long.TryParse(Path.GetFileName(folder), NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v != keep)
            .ToList();

    [LoggerMessage(EventId = LogEvents.RegistryServing, Level = LogLevel.Information, Message = "Registry: {Followed} is version {Version}, which now serves")]
    private static partial void LogServing(ILogger logger, FollowedModel followed, long version);

    [LoggerMessage(EventId = LogEvents.RegistryRefused, Level = LogLevel.Error, Message = "Registry: {Followed} moved to version {Version}, which was refused: {Reason}; the previous version keeps serving")]
    private static partial void LogRefused(ILogger logger, FollowedModel followed, long version, string reason);

    [LoggerMessage(EventId = LogEvents.RegistryUnavailable, Level = LogLevel.Warning, Message = "Registry: cannot be read ({Reason}); trying again at the next poll")]
    private static partial void LogUnavailable(ILogger logger, string reason);
}
