using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Turbine.Core.Execution;
using Turbine.Core.Repository;

namespace Turbine.Core.Lifecycle;

/// <summary>What a load produced: the snapshot to publish, the runners it replaces, and why anything failed.</summary>
/// <param name="Next">The snapshot to publish.</param>
/// <param name="Retired">Runners of the previous snapshot that no longer serve; drain them after publishing.</param>
/// <param name="Failure">Why a version (or the whole model) failed to load; null when everything loaded.</param>
internal sealed record LoadOutcome(ModelSnapshot Next, IReadOnlyList<IVersionRunner> Retired, string? Failure)
{
    /// <summary>Configuration fields Turbine ignores, by name.</summary>
    public IReadOnlyList<string>? Unsupported { get; init; }
}

/// <summary>
/// Builds a model's next snapshot from its folder. A version whose model file and configuration are unchanged keeps
/// its running instance; a new or changed one is loaded, validated and warmed before it is published; a version that
/// fails to load leaves its previous load serving, and a model none of whose versions load keeps every version it
/// had (SECURITY.md F3).
/// </summary>
internal sealed partial class VersionLoader(ModelRepository repository, BackendRegistry backends, TimeProvider time, ILogger logger, IVersionWatcher? watcher = null)
{
    public LoadOutcome Load(string name, ModelSnapshot previous, string? configOverride)
    {
        var outcome = Build(name, previous, configOverride, out var unsupported);
        return outcome with { Unsupported = unsupported };
    }

    private LoadOutcome Build(string name, ModelSnapshot previous, string? configOverride, out IReadOnlyList<string>? unsupported)
    {
        unsupported = null;
        ModelDefinition definition;
        try
        {
            definition = repository.Read(name, backends, configOverride);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Keep(previous, $"cannot read the model folder: {e.GetType().Name}", []);
        }

        unsupported = definition.Unsupported;
        if (definition is not { Config: { } config, Backend: { } backend })
        {
            return Keep(previous, string.Join("; ", definition.Errors), definition.Versions);
        }

        var configHash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(definition.ConfigText)));
        var statuses = new List<ModelVersionStatus>();
        var runners = new List<IVersionRunner>();
        var stamps = new Dictionary<long, string>();
        var failures = new List<string>();
        foreach (var version in definition.Versions)
        {
            var stamp = configHash + "|" + repository.VersionStamp(name, version, definition.Config?.ModelFileName ?? backend.DefaultModelFileName);
            var running = previous.Runners.FirstOrDefault(r => r.Version == version);
            if (running is not null && previous.Stamps.TryGetValue(version, out var loadedFrom) && loadedFrom == stamp)
            {
                runners.Add(running);
                stamps[version] = stamp;
                statuses.Add(new ModelVersionStatus(version, ModelState.Ready, string.Empty));
                continue;
            }

            var loaded = TryLoadVersion(backend, config, version, configHash, out var reason);
            if (loaded is not null)
            {
                runners.Add(loaded);
                stamps[version] = stamp;
                statuses.Add(new ModelVersionStatus(version, ModelState.Ready, string.Empty));
                continue;
            }

            failures.Add($"version {version}: {reason}");
            if (running is not null)
            {
                runners.Add(running);
                stamps[version] = previous.Stamps[version];
                statuses.Add(new ModelVersionStatus(version, ModelState.Ready, "reload failed, the previous load still serves: " + reason));
            }
            else
            {
                statuses.Add(new ModelVersionStatus(version, ModelState.Unavailable, reason));
            }
        }

        var failure = failures.Count == 0 ? null : string.Join("; ", failures);
        if (runners.Count == 0 && previous.Runners.Count > 0)
        {
            return Keep(previous, failure!, []);
        }

        var retired = previous.Runners.Where(r => !runners.Contains(r)).ToList();
        return new LoadOutcome(new ModelSnapshot(name, statuses, runners, failure ?? string.Empty, stamps), retired, failure);
    }

    /// <summary>The load failed as a whole: whatever served before keeps serving, and the reason is recorded.</summary>
    private static LoadOutcome Keep(ModelSnapshot previous, string reason, IReadOnlyList<long> versions)
    {
        if (previous.Runners.Count > 0)
        {
            return new LoadOutcome(previous with { Reason = reason }, [], reason);
        }

        var statuses = versions.Select(v => new ModelVersionStatus(v, ModelState.Unavailable, reason)).ToList();
        return new LoadOutcome(ModelSnapshot.Unavailable(previous.Name, reason, statuses), [], reason);
    }

    private IVersionRunner? TryLoadVersion(IModelBackend backend, ModelConfig config, long version, string configHash, out string reason)
    {
        IVersionRunner runner;
        try
        {
            var path = repository.ModelFilePath(config.Name, version, config.ModelFileName ?? backend.DefaultModelFileName);
            var errors = new List<string>();
            var signature = backend.Inspect(path);
            foreach (var warning in signature.Warnings)
            {
                LogInspectionWarning(logger, config.Name, version, warning);
            }

            ModelConfigValidator.Validate(config, config.Name, signature, errors);
            if (errors.Count > 0)
            {
                reason = string.Join("; ", errors);
                return null;
            }

            var identity = LoadIdentity(configHash, path);
            var context = new VersionLoadContext(config, version, path, identity, time, logger);
            runner = backend is IVersionRunnerFactory factory
                ? factory.CreateRunner(context)
                : config.SequenceBatching is not null
                    ? new Execution.Sequences.SequenceBatchRunner(config, version, CreateInstances(backend, path, config), time, identity, logger)
                    : new ModelVersionRunner(config, version, CreateInstances(backend, path, config), time, identity, logger);
            if (watcher is not null && Watch(watcher, context, runner) is { } refused)
            {
                reason = refused;
                return null;
            }
        }
        catch (Exception e) when (e is InferenceException or IOException or UnauthorizedAccessException)
        {
            reason = e is InferenceException ? e.Message : $"cannot read the model file: {e.GetType().Name}";
            return null;
        }

        // Loads run on their own thread (LoaderThread), so waiting here holds no request thread.
        var warmupError = config.Warmup.Count == 0 ? null
            : ModelWarmer.RunAsync(runner, file => repository.WarmupFilePath(config.Name, file)).GetAwaiter().GetResult();
        if (warmupError is not null)
        {
            runner.DisposeAsync().AsTask().GetAwaiter().GetResult();
            reason = warmupError;
            return null;
        }

        reason = string.Empty;
        return runner;
    }

    /// <summary>Tells the watcher about a new version; its refusal releases the runner and fails the load.</summary>
    private static string? Watch(IVersionWatcher watcher, VersionLoadContext context, IVersionRunner runner)
    {
        try
        {
            watcher.Loaded(context, runner);
            return null;
        }
        catch (InferenceException e)
        {
            runner.DisposeAsync().AsTask().GetAwaiter().GetResult();
            return e.Message;
        }
    }

    /// <summary>The instances of one version; the ones already created are released when a later one fails.</summary>
    private static IModelInstance[] CreateInstances(IModelBackend backend, string path, ModelConfig config)
    {
        var instances = new List<IModelInstance>();
        try
        {
            for (var i = 0; i < config.InstanceCount; i++)
            {
                instances.Add(backend.CreateInstance(path, config, i));
            }

            return [.. instances];
        }
        catch
        {
            foreach (var instance in instances)
            {
                instance.Dispose();
            }

            throw;
        }
    }

    /// <summary>
    /// The configuration's hash and the model file's content hash: equal on every replica that loads the same files,
    /// so replicas share response-cache entries, and different after any change, even one that keeps the file's
    /// length and time.
    /// </summary>
    private static string LoadIdentity(string configHash, string modelPath)
    {
        using var file = new FileStream(modelPath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.SequentialScan);
        return configHash[..16] + Convert.ToHexString(SHA256.HashData(file), 0, 16);
    }

    [LoggerMessage(EventId = LogEvents.InspectionWarning, Level = LogLevel.Warning, Message = "Model '{Model}' version {Version}: {Warning}")]
    private static partial void LogInspectionWarning(ILogger logger, string model, long version, string warning);
}
