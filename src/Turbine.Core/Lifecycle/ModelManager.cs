using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Turbine.Core.Execution;
using Turbine.Core.Repository;

namespace Turbine.Core.Lifecycle;

/// <summary>
/// Loads, reloads and unloads the models of a repository. Each model's state is an immutable
/// <see cref="ModelSnapshot"/> swapped atomically; loads of one model are serialized, different models load in
/// parallel. A model that fails to load is UNAVAILABLE with its reason, and every other model keeps serving.
/// </summary>
public sealed partial class ModelManager : IAsyncDisposable
{
    private readonly ModelRepository _repository;
    private readonly IModelBackend _backend;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, ModelEntry> _models = new(StringComparer.Ordinal);

    /// <summary>Creates a manager over <paramref name="repository"/> that runs models with <paramref name="backend"/>.</summary>
    public ModelManager(ModelRepository repository, IModelBackend backend, TimeProvider time, ILogger<ModelManager> logger)
    {
        _repository = repository;
        _backend = backend;
        _time = time;
        _logger = logger;
    }

    /// <summary>The repository served.</summary>
    public ModelRepository Repository => _repository;

    /// <summary>Loads every model in the repository, in parallel. Failures are recorded per model, never thrown.</summary>
    public Task LoadAllAsync(CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(_repository.ListModels(), cancellationToken, async (name, token) => await LoadAsync(name, token));

    /// <summary>Loads a model, or reloads it if loaded: the new versions are ready before the old ones drain.</summary>
    /// <returns>null on success, else why it failed.</returns>
    public async Task<InferenceError?> LoadAsync(string name, CancellationToken cancellationToken)
    {
        if (!ModelNames.IsValid(name))
        {
            return InferenceError.Invalid($"'{ClientText.Quote(name)}' is not a valid model name");
        }

        if (!_repository.Contains(name))
        {
            return InferenceError.NotFound($"failed to load '{name}', failed to poll from model repository");
        }

        var entry = _models.GetOrAdd(name, static n => new ModelEntry(n));
        await entry.Gate.WaitAsync(cancellationToken);
        try
        {
            var previous = entry.Snapshot;
            entry.Snapshot = previous with { Versions = WithState(previous.Versions, ModelState.Loading) };
            var next = await Task.Run(() => Build(name), CancellationToken.None);
            entry.Snapshot = next;
            await DrainAsync(previous.Runners);
            if (next.Runners.Count == 0)
            {
                LogLoadFailed(_logger, name, next.Reason);
                return InferenceError.Invalid($"failed to load '{name}': {next.Reason}");
            }

            LogLoaded(_logger, name, next.Runners.Count);
            return null;
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    /// <summary>Unloads a model: it stops taking requests, queued ones finish, then its instances are released.</summary>
    public async Task<InferenceError?> UnloadAsync(string name, CancellationToken cancellationToken)
    {
        if (!ModelNames.IsValid(name))
        {
            return InferenceError.Invalid($"'{ClientText.Quote(name)}' is not a valid model name");
        }

        if (!_models.TryGetValue(name, out var entry))
        {
            return _repository.Contains(name) ? null : InferenceError.NotFound($"failed to unload '{name}', model is not found");
        }

        await entry.Gate.WaitAsync(cancellationToken);
        try
        {
            var previous = entry.Snapshot;
            entry.Snapshot = ModelSnapshot.Unavailable(name, "unloaded", WithState(previous.Versions, ModelState.Unavailable, "unloaded"));
            await DrainAsync(previous.Runners);
            LogUnloaded(_logger, name);
            return null;
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    /// <summary>The repository index: every model folder, with the state of each version known.</summary>
    public IReadOnlyList<RepositoryIndexEntry> Index(bool readyOnly)
    {
        var result = new List<RepositoryIndexEntry>();
        foreach (var name in _repository.ListModels())
        {
            if (!_models.TryGetValue(name, out var entry) || entry.Snapshot.Versions.Count == 0)
            {
                if (!readyOnly)
                {
                    var reason = entry?.Snapshot.Reason ?? string.Empty;
                    result.Add(new RepositoryIndexEntry(name, null, ModelState.Unavailable, reason));
                }

                continue;
            }

            foreach (var version in entry.Snapshot.Versions)
            {
                if (!readyOnly || version.State == ModelState.Ready)
                {
                    result.Add(new RepositoryIndexEntry(name, version.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), version.State, version.Reason));
                }
            }
        }

        return result;
    }

    /// <summary>Whether every model that was asked to load is ready (the server's readiness).</summary>
    public bool AllReady()
    {
        foreach (var entry in _models.Values)
        {
            if (entry.Snapshot.Reason is not "unloaded" && entry.Snapshot.Runners.Count == 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Finds the version that serves a request: <paramref name="version"/> if given, else the newest ready.</summary>
    internal InferenceError? Resolve(string name, string? version, out ModelVersionRunner? runner)
    {
        runner = null;
        if (!_models.TryGetValue(name, out var entry))
        {
            return InferenceError.NotFound($"Request for unknown model: '{ClientText.Quote(name)}' is not found");
        }

        var snapshot = entry.Snapshot;
        if (string.IsNullOrEmpty(version))
        {
            runner = snapshot.Runner(0);
            return runner is null ? InferenceError.Unavailable($"Request for unknown model: '{name}' has no available versions") : null;
        }

        if (!ModelNames.TryParseVersion(version, out var number) || !HasVersion(snapshot, number))
        {
            return InferenceError.NotFound($"Request for unknown model: '{name}' version {ClientText.Quote(version)} is not found");
        }

        runner = snapshot.Runner(number);
        return runner is null ? InferenceError.Unavailable($"Request for unknown model: '{name}' version {version} is not at ready state") : null;
    }

    private static bool HasVersion(ModelSnapshot snapshot, long version)
    {
        foreach (var status in snapshot.Versions)
        {
            if (status.Version == version)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The snapshot of a model, if it was ever loaded.</summary>
    internal ModelSnapshot? Snapshot(string name) => _models.TryGetValue(name, out var entry) ? entry.Snapshot : null;

    /// <summary>Every model's snapshot.</summary>
    internal IEnumerable<ModelSnapshot> Snapshots()
    {
        foreach (var entry in _models.Values)
        {
            yield return entry.Snapshot;
        }
    }

    /// <summary>Drains and releases every model.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var entry in _models.Values)
        {
            var runners = entry.Snapshot.Runners;
            entry.Snapshot = ModelSnapshot.Unavailable(entry.Name, "server shutting down");
            await DrainAsync(runners);
        }
    }

    private ModelSnapshot Build(string name)
    {
        ModelDefinition definition;
        try
        {
            definition = _repository.Read(name, _backend);
        }
        catch (IOException e)
        {
            return ModelSnapshot.Unavailable(name, $"cannot read the model folder: {e.GetType().Name}");
        }

        if (definition.Unsupported is { Count: > 0 } unsupported)
        {
            LogUnsupported(_logger, name, string.Join(", ", unsupported));
        }

        if (definition.Config is null)
        {
            var reason = string.Join("; ", definition.Errors);
            return ModelSnapshot.Unavailable(name, reason, definition.Versions.Select(v => new ModelVersionStatus(v, ModelState.Unavailable, reason)).ToList());
        }

        var statuses = new List<ModelVersionStatus>();
        var runners = new List<ModelVersionRunner>();
        foreach (var version in definition.Versions)
        {
            var runner = TryLoadVersion(definition.Config, version, out var reason);
            statuses.Add(new ModelVersionStatus(version, runner is null ? ModelState.Unavailable : ModelState.Ready, reason));
            if (runner is not null)
            {
                runners.Add(runner);
            }
        }

        var failures = string.Join("; ", statuses.Where(s => s.State != ModelState.Ready).Select(s => $"version {s.Version}: {s.Reason}"));
        return new ModelSnapshot(name, definition.Config, statuses, runners, failures);
    }

    private ModelVersionRunner? TryLoadVersion(ModelConfig config, long version, out string reason)
    {
        var instances = new List<IModelInstance>();
        try
        {
            var path = _repository.ModelFilePath(config.Name, version, _backend);
            if (!File.Exists(path))
            {
                reason = $"{_backend.DefaultModelFileName} is missing";
                return null;
            }

            var errors = new List<string>();
            ModelConfigValidator.Validate(config, config.Name, _backend.Inspect(path), errors);
            if (errors.Count > 0)
            {
                reason = string.Join("; ", errors);
                return null;
            }

            for (var i = 0; i < config.InstanceCount; i++)
            {
                instances.Add(_backend.CreateInstance(path, config));
            }

            reason = string.Empty;
            return new ModelVersionRunner(config, version, [.. instances], _time);
        }
        catch (InferenceException e)
        {
            foreach (var instance in instances)
            {
                instance.Dispose();
            }

            reason = e.Message;
            return null;
        }
    }

    private static async Task DrainAsync(IReadOnlyList<ModelVersionRunner> runners)
    {
        foreach (var runner in runners)
        {
            await runner.DisposeAsync();
        }
    }

    private static List<ModelVersionStatus> WithState(IReadOnlyList<ModelVersionStatus> versions, ModelState state, string reason = "") =>
        versions.Select(v => v with { State = state, Reason = reason }).ToList();

    [LoggerMessage(Level = LogLevel.Information, Message = "Model '{Model}' is ready with {Versions} version(s)")]
    private static partial void LogLoaded(ILogger logger, string model, int versions);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model '{Model}' failed to load: {Reason}")]
    private static partial void LogLoadFailed(ILogger logger, string model, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model '{Model}': Turbine ignores these configuration fields: {Fields}")]
    private static partial void LogUnsupported(ILogger logger, string model, string fields);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model '{Model}' unloaded")]
    private static partial void LogUnloaded(ILogger logger, string model);

    private sealed class ModelEntry(string name)
    {
        private ModelSnapshot _snapshot = ModelSnapshot.Unavailable(name, string.Empty);

        public string Name { get; } = name;

        public SemaphoreSlim Gate { get; } = new(1, 1);

        public ModelSnapshot Snapshot
        {
            get => Volatile.Read(ref _snapshot);
            set => Volatile.Write(ref _snapshot, value);
        }
    }
}
