using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Turbine.Core.Execution;
using Turbine.Core.Repository;

namespace Turbine.Core.Lifecycle;

/// <summary>
/// Loads, reloads and unloads the models of a repository. Each model's state is an immutable
/// <see cref="ModelSnapshot"/> swapped atomically: a reload publishes the new versions once they are loaded and
/// warmed, then drains the ones they replace, so requests never see a model half loaded. Loads of one model are
/// serialized, different models load in parallel, and loading runs on its own threads, never the request threads.
/// </summary>
public sealed partial class ModelManager : IAsyncDisposable
{
    private readonly ModelRepository _repository;
    private readonly VersionLoader _loader;
    private readonly BackendRegistry _backends;
    private readonly TimeProvider _time;
    private readonly IVersionWatcher? _watcher;
    private readonly VersionRoutingStore _routingStore;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, ModelEntry> _models = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DurationCounter> _loadTimes = new(StringComparer.Ordinal);

    /// <summary>Creates a manager over <paramref name="repository"/> that runs each model with the backend its configuration selects.</summary>
    /// <param name="repository">The model repository.</param>
    /// <param name="backends">The backends, by name.</param>
    /// <param name="time">The clock of the schedulers.</param>
    /// <param name="logger">Where loads and failures are logged.</param>
    /// <param name="routingStore">Where default versions and labels are kept; null keeps them in memory.</param>
    /// <param name="watcher">Who is told about each version loaded and retired (monitoring), if anyone.</param>
    public ModelManager(ModelRepository repository, BackendRegistry backends, TimeProvider time, ILogger<ModelManager> logger, VersionRoutingStore? routingStore = null, IVersionWatcher? watcher = null)
    {
        _repository = repository;
        _watcher = watcher;
        _backends = backends;
        _time = time;
        _loader = new VersionLoader(repository, backends, time, logger, watcher);
        _routingStore = routingStore ?? new VersionRoutingStore(null);
        _logger = logger;
    }

    /// <summary>The repository served.</summary>
    public ModelRepository Repository => _repository;

    /// <summary>
    /// Why the index lists a model of the repository that nothing has loaded: the host knows (its model control mode
    /// decides what loads), Core does not.
    /// </summary>
    public string NotLoadedReason { get; set; } = "not loaded";

    /// <summary>How long each model's loads took (reloads and failed loads included), by model name.</summary>
    public IReadOnlyDictionary<string, DurationCounter> LoadTimes => _loadTimes;

    /// <summary>Loads every model in the repository, in parallel. Failures are recorded per model, never thrown.</summary>
    public Task LoadAllAsync(CancellationToken cancellationToken) => LoadAsync(_repository.ListModels(), cancellationToken);

    /// <summary>Loads the named models, in parallel. Failures are recorded per model, never thrown.</summary>
    public Task LoadAsync(IEnumerable<string> names, CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(names, cancellationToken, async (name, token) => await LoadAsync(name, token));

    /// <summary>
    /// Loads a model, or reloads it if loaded: new and changed versions are loaded and warmed before they take
    /// traffic, unchanged ones keep running, and the versions replaced drain before they are released. A failed
    /// reload leaves the previous versions serving.
    /// </summary>
    /// <param name="name">The model.</param>
    /// <param name="cancellationToken">Cancels waiting for another load of the same model.</param>
    /// <param name="configOverride">Configuration JSON used instead of the folder's config file for this load.</param>
    /// <param name="files">
    /// The model's files, sent in the load request (Triton's <c>file:</c> parameters; <paramref name="configOverride"/>
    /// then required): staged in a fresh folder that serves the model if the load succeeds. Without files the model
    /// loads from the repository's own folder again, if it has one.
    /// </param>
    /// <returns>null on success, else why it failed.</returns>
    public async Task<InferenceError?> LoadAsync(string name, CancellationToken cancellationToken, string? configOverride = null, IReadOnlyList<ModelFileUpload>? files = null)
    {
        if (!ModelNames.IsValid(name))
        {
            return InferenceError.Invalid($"'{ClientText.Quote(name)}' is not a valid model name");
        }

        string? staged = null;
        if (files is { Count: > 0 })
        {
            if (configOverride is null)
            {
                return InferenceError.Invalid($"failed to load '{name}': model files in the load request need the model's configuration in the 'config' parameter too");
            }

            if (ModelRepository.CheckUpload(files) is { } refused)
            {
                return InferenceError.Invalid($"failed to load '{name}': {refused}");
            }

            try
            {
                staged = _repository.Stage(name, configOverride, files);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return InferenceError.Unavailable($"failed to load '{name}': its files could not be written ({e.GetType().Name}); try again");
            }
        }
        else if (!_repository.Contains(name))
        {
            return InferenceError.NotFound($"failed to load '{name}', failed to poll from model repository");
        }

        var entry = _models.GetOrAdd(name, n => new ModelEntry(n, _routingStore.Load(n)));
        try
        {
            await entry.Gate.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            _repository.DiscardStaged(staged); // the caller gave up before this load's turn: nothing serves from it
            throw;
        }

        try
        {
            var servedFrom = _repository.UseStaged(name, staged);
            var previous = entry.Snapshot;
            var started = _time.GetTimestamp();
            var outcome = await LoaderThread.RunAsync(() => _loader.Load(name, previous, staged is null ? configOverride : null));
            _loadTimes.GetOrAdd(name, static _ => new DurationCounter()).Record((long)_time.GetElapsedTime(started).TotalNanoseconds);
            if (outcome.Unsupported is { Count: > 0 } unsupported)
            {
                LogUnsupported(_logger, name, string.Join(", ", unsupported));
            }

            entry.Snapshot = outcome.Next;
            entry.Unloaded = false;
            await DrainAsync(outcome.Retired);
            if (outcome.Failure is not null)
            {
                _repository.UseStaged(name, servedFrom); // the folder the model served from before serves on
                _repository.DiscardStaged(staged);
                LogLoadFailed(_logger, name, outcome.Failure);
                return InferenceError.Invalid($"failed to load '{name}': {outcome.Failure}");
            }

            _repository.DiscardStaged(servedFrom);
            LogLoaded(_logger, name, outcome.Next.Runners.Count);
            return null;
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    /// <summary>Unloads a model: it stops taking requests, queued ones finish, then its instances are released.</summary>
    public Task<InferenceError?> UnloadAsync(string name, CancellationToken cancellationToken) => UnloadAsync(name, "unloaded", cancellationToken);

    /// <summary>Unloads a model, saying why in the repository index (<paramref name="reason"/>).</summary>
    public async Task<InferenceError?> UnloadAsync(string name, string reason, CancellationToken cancellationToken)
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
            if (previous.Runners.Count == 0)
            {
                return null; // not loaded: a success that changes nothing (the reason a failed load gave stays), as in Triton
            }

            var versions = previous.Versions.Select(v => v with { State = ModelState.Unavailable, Reason = reason }).ToList();
            entry.Snapshot = ModelSnapshot.Unavailable(name, reason, versions);
            entry.Unloaded = true;
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
                    var reason = entry is { Snapshot.Reason.Length: > 0 } ? entry.Snapshot.Reason : NotLoadedReason;
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

    /// <summary>Whether every model that was asked to load is serving (the server's strict readiness).</summary>
    public bool AllReady()
    {
        foreach (var entry in _models.Values)
        {
            if (!entry.Unloaded && entry.Snapshot.Runners.Count == 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Versions serving and models known but not serving (their load failed, or they were unloaded), from memory alone:
    /// what a dashboard polls every second without reading the repository's folders.
    /// </summary>
    public (int ReadyVersions, int NotServing) Census()
    {
        int ready = 0, notServing = 0;
        foreach (var entry in _models.Values)
        {
            var runners = entry.Snapshot.Runners.Count;
            ready += runners;
            notServing += runners == 0 ? 1 : 0;
        }

        return (ready, notServing);
    }

    /// <summary>Whether some version of the model serves.</summary>
    public bool IsLoaded(string name) => _models.TryGetValue(name, out var entry) && entry.Snapshot.Runners.Count > 0;

    /// <summary>
    /// What loading a model would cost, estimated from its folder: the bytes of the versions its policy selects, and
    /// whether its instances run on a GPU. A model whose configuration cannot be read costs nothing: its load fails
    /// with the reason.
    /// </summary>
    public ModelFootprint Footprint(string name)
    {
        try
        {
            var definition = _repository.Read(name, _backends);
            if (definition.Config is not { } config)
            {
                return default;
            }

            long bytes = 0;
            foreach (var version in definition.Versions)
            {
                bytes += _repository.VersionBytes(name, version);
            }

            return new ModelFootprint(bytes, config.Settings.InstanceKind == "KIND_GPU");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return default; // the load meets the same problem and says so
        }
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

    private async Task DrainAsync(IReadOnlyList<IVersionRunner> runners)
    {
        foreach (var runner in runners)
        {
            await runner.DisposeAsync();
            _watcher?.Retired(runner);
        }

        if (runners.Count > 0)
        {
            NativeMemory.Release();
        }
    }

    [LoggerMessage(EventId = LogEvents.ModelLoaded, Level = LogLevel.Information, Message = "Model '{Model}' is ready with {Versions} version(s)")]
    private static partial void LogLoaded(ILogger logger, string model, int versions);

    [LoggerMessage(EventId = LogEvents.ModelLoadFailed, Level = LogLevel.Warning, Message = "Model '{Model}' failed to load: {Reason}")]
    private static partial void LogLoadFailed(ILogger logger, string model, string reason);

    [LoggerMessage(EventId = LogEvents.ConfigFieldsIgnored, Level = LogLevel.Warning, Message = "Model '{Model}': Turbine ignores these configuration fields: {Fields}")]
    private static partial void LogUnsupported(ILogger logger, string model, string fields);

    [LoggerMessage(EventId = LogEvents.ModelUnloaded, Level = LogLevel.Information, Message = "Model '{Model}' unloaded")]
    private static partial void LogUnloaded(ILogger logger, string model);

    private sealed class ModelEntry(string name, VersionRouting routing)
    {
        private ModelSnapshot _snapshot = ModelSnapshot.Unavailable(name, string.Empty);
        private VersionRouting _routing = routing;

        public string Name { get; } = name;

        /// <summary>Serializes loads, unloads and routing changes of this model.</summary>
        public SemaphoreSlim Gate { get; } = new(1, 1);

        /// <summary>Whether an unload, not a failure, left the model without versions: readiness does not wait for it.</summary>
        public bool Unloaded { get; set; }

        public ModelSnapshot Snapshot
        {
            get => Volatile.Read(ref _snapshot);
            set => Volatile.Write(ref _snapshot, value);
        }

        public VersionRouting Routing
        {
            get => Volatile.Read(ref _routing);
            set => Volatile.Write(ref _routing, value);
        }
    }
}
