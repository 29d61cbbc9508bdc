using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Turbine.Core.Lifecycle;

/// <summary>Which resident model leaves first when a model must be loaded and the budget is full.</summary>
public enum PagingPolicy
{
    /// <summary>The one used least recently.</summary>
    Lru,

    /// <summary>The one used least often since the server started (ties: least recently).</summary>
    Lfu,
}

/// <summary>How models are paged in and out (docs/BACKENDS.md, "Memory-aware model paging").</summary>
public sealed record ModelPagingSettings
{
    /// <summary>Bytes of host memory the loaded models may take, by their footprint (<see cref="ModelFootprint"/>).</summary>
    public long BudgetBytes { get; init; }

    /// <summary>Bytes of GPU memory models on a GPU may take; 0 counts them against <see cref="BudgetBytes"/>.</summary>
    public long GpuBudgetBytes { get; init; }

    /// <summary>Models loaded at startup that never leave.</summary>
    public IReadOnlySet<string> Pinned { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>How long a request waits for its model to load before it is answered 503 (the load goes on).</summary>
    public TimeSpan MaxWait { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Which model leaves first.</summary>
    public PagingPolicy Policy { get; init; } = PagingPolicy.Lru;

    /// <summary>How long a failed load is answered from memory before a request may try it again.</summary>
    public TimeSpan FailureHoldoff { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// Loads models on their first request within a memory budget and unloads idle ones to make room, so that a server
/// can hold a repository of hundreds of models with the memory of a few. A model's cost is its footprint (the
/// bytes of the versions it loads); loads of one model are single-flight, loads of different models run in
/// parallel once each has reserved its room; a model with requests queued or running, a model loading and a
/// pinned model never leave. When the budget is full of busy models a miss is refused (503, retry) rather than
/// queued behind them.
/// </summary>
public sealed partial class ModelPager : IDisposable
{
    private readonly ModelManager _models;
    private readonly ModelPagingSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <summary>Makes room: one admission at a time picks victims and reserves its bytes; the loads themselves run in parallel.</summary>
    private readonly SemaphoreSlim _room = new(1, 1);
    private readonly ConcurrentDictionary<string, Lazy<Task<InferenceError?>>> _loading = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ModelFootprint> _reserved = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ModelFootprint> _footprints = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ModelUse> _uses = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (InferenceError Error, long At)> _failures = new(StringComparer.Ordinal);
    private long _clock;
    private long _loads;
    private long _evictions;
    private long _refusals;
    private int _waiting;

    /// <summary>Creates a pager over <paramref name="models"/>.</summary>
    /// <param name="models">The models it loads and unloads.</param>
    /// <param name="settings">The budget, pinned models and policy.</param>
    /// <param name="time">The clock of waits and failure holdoffs.</param>
    /// <param name="logger">Where loads, evictions and refusals are logged.</param>
    public ModelPager(ModelManager models, ModelPagingSettings settings, TimeProvider time, ILogger<ModelPager> logger)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(settings.BudgetBytes);
        _models = models;
        _settings = settings;
        _time = time;
        _logger = logger;
    }

    /// <summary>The settings the pager runs with.</summary>
    public ModelPagingSettings Settings => _settings;

    /// <summary>Models loaded on demand (misses that loaded), since start.</summary>
    public long Loads => Volatile.Read(ref _loads);

    /// <summary>Models unloaded to make room, since start.</summary>
    public long Evictions => Volatile.Read(ref _evictions);

    /// <summary>Misses refused because every model holding the budget was busy, or too big for it.</summary>
    public long Refusals => Volatile.Read(ref _refusals);

    /// <summary>Requests waiting now for their model to load.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>The footprint of the resident models (and of those loading), in host memory and on GPUs.</summary>
    public (long Host, long Gpu) ResidentBytes()
    {
        long host = 0, gpu = 0;
        foreach (var (_, footprint) in Resident())
        {
            if (CountsOnGpu(footprint))
            {
                gpu += footprint.Bytes;
            }
            else
            {
                host += footprint.Bytes;
            }
        }

        return (host, gpu);
    }

    /// <summary>Loads the pinned models (at startup); failures are recorded per model, as for any load.</summary>
    public Task LoadPinnedAsync(CancellationToken cancellationToken) => _models.LoadAsync(_settings.Pinned, cancellationToken);

    /// <summary>Notes a request to a resident model: what the eviction policy orders by. Two atomic increments.</summary>
    public void Touch(string name) => UseOf(name).Record(Interlocked.Increment(ref _clock));

    private ModelUse UseOf(string name) => _uses.TryGetValue(name, out var use) ? use : _uses.GetOrAdd(name, static _ => new ModelUse());

    /// <summary>Whether a request to <paramref name="name"/>, which resolved to no ready version, should load it: it is in the repository and not loaded.</summary>
    public bool Pages(string name) => !_models.IsLoaded(name) && _models.Repository.Contains(name);

    /// <summary>
    /// Loads <paramref name="name"/> for a request that found it absent, or joins the load already under way, and
    /// waits for it at most <see cref="ModelPagingSettings.MaxWait"/>.
    /// </summary>
    /// <returns>null once the model serves; else why the request cannot be served (unavailable: retry later).</returns>
    /// <returns>
    /// A hold that keeps the model from being paged out until the caller disposes it (once its request is queued, the
    /// queue protects it); or why the request cannot be served (unavailable: retry later).
    /// </returns>
    public async ValueTask<(PageHold Hold, InferenceError? Error)> PageInAsync(string name, CancellationToken cancellationToken)
    {
        if (_failures.TryGetValue(name, out var failed))
        {
            if (_time.GetElapsedTime(failed.At) < _settings.FailureHoldoff)
            {
                return (default, failed.Error);
            }

            _failures.TryRemove(KeyValuePair.Create(name, failed));
        }

        var use = UseOf(name);
        use.Hold(); // held from before the load: a model loaded for waiting requests is not the next one out
        var flight = _loading.GetOrAdd(name, static (model, pager) => new Lazy<Task<InferenceError?>>(() => pager.LoadAsync(model)), this);
        var wait = flight.Value.WaitAsync(_settings.MaxWait, _time, cancellationToken);
        Interlocked.Increment(ref _waiting);
        InferenceError? error = null;
        var held = false;
        try
        {
            error = await wait;
            held = error is null;
        }
        catch (TimeoutException)
        {
            error = InferenceError.Unavailable(
                $"model '{name}' is loading on demand and did not finish within {_settings.MaxWait.TotalSeconds:0.###} s; the load goes on: retry shortly");
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
            if (!held)
            {
                use.Release(); // refused, timed out or cancelled: nothing of this request will run on the model
            }
        }

        return error is null ? (new PageHold(use), null) : (default, error);
    }

    /// <summary>One load, shared by every request that waits for it: makes room, reserves it, loads.</summary>
    private async Task<InferenceError?> LoadAsync(string name)
    {
        await Task.Yield(); // the first waiter's thread returns to it; the load runs on its own
        try
        {
            if (_models.IsLoaded(name))
            {
                return null;
            }

            var footprint = _models.Footprint(name);
            _footprints[name] = footprint;
            var error = await ReserveAsync(name, footprint);
            if (error is not null)
            {
                Interlocked.Increment(ref _refusals);
                LogRefused(_logger, name, error.Message);
                return error;
            }

            try
            {
                error = await _models.LoadAsync(name, CancellationToken.None);
            }
            finally
            {
                _reserved.TryRemove(name, out _);
            }

            if (error is not null)
            {
                _failures[name] = (error, _time.GetTimestamp());
                return error;
            }

            Interlocked.Increment(ref _loads);
            Touch(name); // a model just loaded is the most recently used, not the first to leave
            return null;
        }
        finally
        {
            _loading.TryRemove(name, out _);
        }
    }

    /// <summary>Unloads idle models, in policy order, until <paramref name="footprint"/> fits its budget, then reserves it.</summary>
    private async Task<InferenceError?> ReserveAsync(string name, ModelFootprint footprint)
    {
        var budget = BudgetOf(footprint);
        if (footprint.Bytes > budget)
        {
            return InferenceError.Unavailable(
                $"model '{name}' needs {footprint.Bytes} bytes, more than the whole model paging budget of {budget} bytes; raise the budget or pin it");
        }

        await _room.WaitAsync();
        try
        {
            while (Used(footprint) + footprint.Bytes > budget)
            {
                if (PickVictim(name, footprint) is not { } victim)
                {
                    return InferenceError.Unavailable(
                        $"model '{name}' cannot be loaded now: the model paging budget is held by models that are serving requests, loading or pinned; retry shortly");
                }

                await _models.UnloadAsync(victim, $"unloaded: paged out to make room for '{name}'; the next request loads it again", CancellationToken.None);
                Interlocked.Increment(ref _evictions);
                LogEvicted(_logger, victim, name);
            }

            _reserved[name] = footprint;
            return null;
        }
        finally
        {
            _room.Release();
        }
    }

    /// <summary>The bytes taken in the budget <paramref name="footprint"/> counts against.</summary>
    private long Used(ModelFootprint footprint)
    {
        long used = 0;
        foreach (var (_, resident) in Resident())
        {
            if (CountsOnGpu(resident) == CountsOnGpu(footprint))
            {
                used += resident.Bytes;
            }
        }

        return used;
    }

    /// <summary>The idle, unpinned resident model in the same budget that the policy sends out first.</summary>
    private string? PickVictim(string incoming, ModelFootprint footprint)
    {
        string? victim = null;
        (long Uses, long Last) victimOrder = (long.MaxValue, long.MaxValue);
        foreach (var snapshot in _models.Snapshots())
        {
            var name = snapshot.Name;
            var use = _uses.TryGetValue(name, out var known) ? known : null;
            if (snapshot.Runners.Count == 0 || name == incoming || _settings.Pinned.Contains(name) || _reserved.ContainsKey(name) ||
                use?.Holds > 0 || CountsOnGpu(FootprintOf(name)) != CountsOnGpu(footprint) || IsBusy(snapshot))
            {
                continue;
            }

            var order = (_settings.Policy == PagingPolicy.Lfu ? use?.Count ?? 0 : 0, use?.Last ?? 0);
            if (order.CompareTo(victimOrder) < 0)
            {
                (victim, victimOrder) = (name, order);
            }
        }

        return victim;
    }

    private static bool IsBusy(ModelSnapshot snapshot)
    {
        foreach (var runner in snapshot.Runners)
        {
            if (runner.QueuedRequests + runner.ExecutingRequests > 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Every model that takes room: the loaded ones, whoever loaded them, and the ones reserving room to load.</summary>
    private IEnumerable<(string Name, ModelFootprint Footprint)> Resident()
    {
        foreach (var snapshot in _models.Snapshots())
        {
            if (snapshot.Runners.Count > 0 && !_reserved.ContainsKey(snapshot.Name))
            {
                yield return (snapshot.Name, FootprintOf(snapshot.Name));
            }
        }

        foreach (var reserved in _reserved)
        {
            yield return (reserved.Key, reserved.Value);
        }
    }

    /// <summary>A loaded model's footprint: measured when the pager loaded it, else (loaded at startup or through the API) now, once.</summary>
    private ModelFootprint FootprintOf(string name) => _footprints.GetOrAdd(name, _models.Footprint);

    private bool CountsOnGpu(ModelFootprint footprint) => footprint.OnGpu && _settings.GpuBudgetBytes > 0;

    private long BudgetOf(ModelFootprint footprint) => CountsOnGpu(footprint) ? _settings.GpuBudgetBytes : _settings.BudgetBytes;

    /// <inheritdoc />
    public void Dispose() => _room.Dispose();

    [LoggerMessage(EventId = LogEvents.ModelPagedOut, Level = LogLevel.Information, Message = "Model '{Model}' paged out to make room for '{Incoming}'")]
    private static partial void LogEvicted(ILogger logger, string model, string incoming);

    [LoggerMessage(EventId = LogEvents.ModelPageRefused, Level = LogLevel.Warning, Message = "Model '{Model}' was not paged in: {Reason}")]
    private static partial void LogRefused(ILogger logger, string model, string reason);

    /// <summary>Keeps a model just paged in from leaving until its request is queued; dispose it once the request is.</summary>
    public readonly struct PageHold : IDisposable
    {
        private readonly ModelUse? _use;

        internal PageHold(ModelUse use) => _use = use;

        /// <inheritdoc />
        public void Dispose() => _use?.Release();
    }

    /// <summary>
    /// How recently and how often a model was asked for (a logical clock's last tick and a count, kept across
    /// evictions), and how many paged-in requests hold it.
    /// </summary>
    internal sealed class ModelUse
    {
        private long _last;
        private long _count;
        private int _holds;

        public long Last => Volatile.Read(ref _last);

        public long Count => Volatile.Read(ref _count);

        public int Holds => Volatile.Read(ref _holds);

        public void Hold() => Interlocked.Increment(ref _holds);

        public void Release() => Interlocked.Decrement(ref _holds);

        public void Record(long tick)
        {
            Volatile.Write(ref _last, tick);
            Interlocked.Increment(ref _count);
        }
    }
}
