using System.Collections.Frozen;
using System.Text;
using Turbine.Core.Lifecycle;
using Turbine.Core.Repository;

namespace Turbine.Core.Traffic;

/// <summary>
/// The routes a server knows, as one immutable map swapped atomically: a change is validated, saved, then published,
/// so a request sees the old route or the new one, never a mix. Routes are kept in <c>&lt;state&gt;/routes/*.json</c>
/// and read back at start, which is also how a repository declares them.
/// </summary>
public sealed class RouteTable
{
    private readonly DefinitionFolder _folder;
    private readonly Lock _writes = new();
    private FrozenDictionary<string, CompiledRoute> _routes = FrozenDictionary<string, CompiledRoute>.Empty;

    private readonly TimeProvider _time;

    /// <summary>Creates a table kept in <paramref name="folder"/> (null: in memory), reading the routes saved there.</summary>
    /// <param name="folder">Where routes are saved; null keeps them in memory.</param>
    /// <param name="time">The clock of the routes' timeouts and circuit breakers.</param>
    public RouteTable(string? folder, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _folder = new DefinitionFolder(folder);
        var loaded = new Dictionary<string, CompiledRoute>(StringComparer.Ordinal);
        foreach (var (name, json) in _folder.ReadAll())
        {
            if (RouteJson.Read(json, name, 16, out var route) is null)
            {
                loaded[name] = new CompiledRoute(route!, _time, _folder.Path, resume: true);
            }
        }

        _routes = loaded.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Every route, by name.</summary>
    public IReadOnlyList<RouteDefinition> All => [.. Volatile.Read(ref _routes).Values.Select(r => r.Definition).OrderBy(r => r.Name, StringComparer.Ordinal)];

    /// <summary>The route called <paramref name="name"/>, if there is one.</summary>
    public bool TryGet(string name, out CompiledRoute route) => Volatile.Read(ref _routes).TryGetValue(name, out route!);

    /// <summary>Adds or replaces a route: saved first, then published.</summary>
    public void Set(RouteDefinition route)
    {
        ArgumentNullException.ThrowIfNull(route);
        lock (_writes)
        {
            _folder.Save(route.Name, writer => RouteJson.Write(writer, route));

            // A route set anew starts its rollout over: the old progress goes before the new rollout saves its own.
            if (Volatile.Read(ref _routes).TryGetValue(route.Name, out var replaced))
            {
                replaced.Forget();
            }

            var next = new Dictionary<string, CompiledRoute>(Volatile.Read(ref _routes), StringComparer.Ordinal)
            {
                [route.Name] = new CompiledRoute(route, _time, _folder.Path, resume: false),
            };
            Volatile.Write(ref _routes, next.ToFrozenDictionary(StringComparer.Ordinal));
        }
    }

    /// <summary>
    /// Publishes a route the server configuration declares, without saving it, unless a route of that name was saved
    /// (set through the API, which wins: it is the later word). False when a saved route kept the name.
    /// </summary>
    public bool Declare(RouteDefinition route)
    {
        ArgumentNullException.ThrowIfNull(route);
        lock (_writes)
        {
            var current = Volatile.Read(ref _routes);
            if (current.ContainsKey(route.Name))
            {
                return false;
            }

            var next = new Dictionary<string, CompiledRoute>(current, StringComparer.Ordinal) { [route.Name] = new CompiledRoute(route, _time, _folder.Path, resume: true) };
            Volatile.Write(ref _routes, next.ToFrozenDictionary(StringComparer.Ordinal));
            return true;
        }
    }

    /// <summary>Deletes a route; false when there was none.</summary>
    public bool Remove(string name)
    {
        lock (_writes)
        {
            var current = Volatile.Read(ref _routes);
            if (!ModelNames.IsValid(name) || !current.TryGetValue(name, out var removed))
            {
                return false;
            }

            _folder.Delete(name);

            removed.Forget();
            Volatile.Write(ref _routes, current.Where(r => r.Key != name).ToFrozenDictionary(StringComparer.Ordinal));
            return true;
        }
    }

    /// <summary>Saves every route's A/B figures (a periodic checkpoint, and one at shutdown).</summary>
    public void Checkpoint()
    {
        foreach (var route in Volatile.Read(ref _routes).Values)
        {
            route.Checkpoint();
        }
    }
}

/// <summary>A route ready to pick variants: cumulative weights, and a count of requests per variant.</summary>
public sealed class CompiledRoute
{
    private readonly long[] _served;
    private readonly Polly.ResiliencePipeline<Execution.InferenceResult>[]? _pipelines;
    private readonly Polly.CircuitBreaker.CircuitBreakerStateProvider[]? _circuits;

    /// <summary>Running sums of the weights; replaced whole when a rollout moves them, so a pick sees one set.</summary>
    private double[] _cumulative;

    private readonly ExperimentStore? _experiments;

    /// <summary>Compiles a route; its state (rollout, A/B figures) lives under <paramref name="stateFolder"/> and is read back when <paramref name="resume"/>.</summary>
    internal CompiledRoute(RouteDefinition definition, TimeProvider time, string? stateFolder = null, bool resume = false)
    {
        Definition = definition;
        var journal = stateFolder is null ? null : new Canary.CanaryJournal(Path.Combine(stateFolder, "canary"), definition.Name);
        _experiments = stateFolder is null ? null : new ExperimentStore(Path.Combine(stateFolder, "experiments"), definition.Name);
        if (definition.Resilience is { } resilience)
        {
            _circuits = resilience.CircuitBreaker is null ? null : [.. definition.Variants.Select(_ => new Polly.CircuitBreaker.CircuitBreakerStateProvider())];
            _pipelines = [.. definition.Variants.Select((_, i) => VariantResilience.Build(resilience, time, _circuits?[i]))];
        }

        _cumulative = Cumulative([.. definition.Variants.Select(v => v.Weight)]);
        _served = new long[_cumulative.Length];
        Experiment = new RouteExperiment(_cumulative.Length);
        if (resume && _experiments?.Load(definition.Variants) is { } saved)
        {
            saved.Served.CopyTo(_served, 0);
            for (var i = 0; i < saved.Arms.Length; i++)
            {
                Experiment.Arm(i).Restore(saved.Arms[i]);
            }
        }

        if (definition.Canary is { } plan)
        {
            Canary = new Canary.CanaryRollout(definition.Name, plan, time, journal, resume, ApplyCanaryPercent, Shadow.Snapshot);
        }
    }

    public RouteDefinition Definition { get; }

    /// <summary>The route's canary rollout, when it has one; it owns the two variants' weights.</summary>
    public Canary.CanaryRollout? Canary { get; }

    /// <summary>Saves the A/B figures (requests per arm, feedback sums), when the route has a state folder.</summary>
    internal void Checkpoint() => _experiments?.Save(
        Definition.Variants, [.. Enumerable.Range(0, _served.Length).Select(Served)], [.. Enumerable.Range(0, _served.Length).Select(i => Experiment.Arm(i).State())]);

    /// <summary>Removes what the route saved besides its definition (rollout progress, A/B figures): it was deleted or set anew.</summary>
    internal void Forget()
    {
        Canary?.Forget();
        _experiments?.Forget();
    }

    /// <summary>The variants' weights now: as declared, or as the rollout has set them.</summary>
    public double Weight(int index)
    {
        var cumulative = Volatile.Read(ref _cumulative);
        return index == 0 ? cumulative[0] : cumulative[index] - cumulative[index - 1];
    }

    /// <summary>Feedback on the arms, for A/B reports.</summary>
    public RouteExperiment Experiment { get; }

    /// <summary>How the shadow compares with the primary, when the route has one.</summary>
    public ShadowComparison Shadow { get; } = new();

    /// <summary>Variant <paramref name="index"/>'s resilience pipeline, or null when the route has none.</summary>
    internal Polly.ResiliencePipeline<Execution.InferenceResult>? Pipeline(int index) => _pipelines?[index];

    /// <summary>The state of variant <paramref name="index"/>'s circuit breaker, or null when the route has none.</summary>
    public Polly.CircuitBreaker.CircuitState? Circuit(int index) => _circuits?[index].CircuitState;

    /// <summary>The queue and worker that run this route's mirrored requests.</summary>
    internal ShadowMirror Mirror { get; } = new();

    /// <summary>Whether this request is one of the share mirrored to the shadow.</summary>
    public bool ShouldMirror() => Definition.Shadow is { Share: > 0 } shadow && Random.Shared.NextDouble() < shadow.Share;

    /// <summary>Requests sent to variant <paramref name="index"/> since the route was set.</summary>
    public long Served(int index) => Volatile.Read(ref _served[index]);

    /// <summary>
    /// Picks a variant for one request. With a sticky key the pick is a hash of the route and the key, so the same key
    /// lands in the same variant for as long as the weights stay; when weights move, only keys near the moved
    /// boundaries change arms. Without one, each request draws afresh.
    /// </summary>
    public int Pick(string? stickyKey)
    {
        var cumulative = Volatile.Read(ref _cumulative);
        var point = (stickyKey is null ? Random.Shared.NextDouble() : UnitInterval(Definition.Name, stickyKey)) * cumulative[^1];
        var index = 0;
        while (index < cumulative.Length - 1 && (point >= cumulative[index] || cumulative[index] == (index == 0 ? 0 : cumulative[index - 1])))
        {
            index++;
        }

        Interlocked.Increment(ref _served[index]);
        return index;
    }

    private void ApplyCanaryPercent(double percent) => Volatile.Write(ref _cumulative, Cumulative([100 - percent, percent]));

    private static double[] Cumulative(double[] weights)
    {
        var total = 0.0;
        for (var i = 0; i < weights.Length; i++)
        {
            total += weights[i];
            weights[i] = total;
        }

        return weights;
    }

    /// <summary>FNV-1a over the route name and the key, mapped to [0, 1): stable across processes and restarts.</summary>
    private static double UnitInterval(string route, string key)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(route + "\n" + key))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        hash ^= hash >> 33; // FNV's low bits mix poorly: fold the high ones in before taking the top 53 bits
        hash *= 0xff51afd7ed558ccdUL;
        hash ^= hash >> 33;
        return (hash >> 11) * (1.0 / (1UL << 53));
    }
}
