using System.Collections.Frozen;
using Turbine.Core.Repository;
using Turbine.Core.State;

namespace Turbine.Traffic;

/// <summary>
/// The routes a server knows, as one immutable map swapped atomically: a change is validated, saved, then published,
/// so a request sees the old route or the new one, never a mix. Routes are kept in the state store
/// (<see cref="StateKinds.Routes"/>) and read back at start; with a store that replicas share, a route set or deleted
/// through one replica is taken up by the others (<see cref="Refresh"/>). A route replaced or removed stops its shadow
/// mirror; disposing the table stops them all.
/// </summary>
public sealed class RouteTable : IAsyncDisposable
{
    private readonly IStateStore? _store;
    private readonly Lock _writes = new();
    private readonly RouteEnvironment _environment;
    private FrozenDictionary<string, CompiledRoute> _routes = FrozenDictionary<string, CompiledRoute>.Empty;

    /// <summary>Routes published from the server configuration rather than the store: a store without them leaves them be.</summary>
    private FrozenSet<string> _declared = FrozenSet<string>.Empty;

    /// <summary>Creates a table kept in <paramref name="store"/> (null: in memory), reading the routes saved there.</summary>
    /// <param name="store">Where routes and their state are saved; null keeps them in memory.</param>
    /// <param name="time">The clock of the routes' timeouts, circuit breakers and rollouts.</param>
    /// <param name="cpuUtilization">The process's share of all cores, for shadows to step aside (default: <see cref="ProcessCpu"/>).</param>
    public RouteTable(IStateStore? store, TimeProvider? time = null, Func<double>? cpuUtilization = null)
    {
        _store = store;
        _environment = new RouteEnvironment(time ?? TimeProvider.System, store, cpuUtilization ?? (() => ProcessCpu.Utilization));
        var loaded = new Dictionary<string, CompiledRoute>(StringComparer.Ordinal);
        foreach (var (name, route) in Saved())
        {
            loaded[name] = new CompiledRoute(route, _environment, RouteStart.Resume);
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
            // A route set anew starts its rollout and figures over: the old ones go before the new route is saved, so
            // that a replica taking the new route up finds none of them.
            if (_store is not null)
            {
                CompiledRoute.Forget(_store, route.Name);
            }

            _store?.PutJson(StateKinds.Routes, route.Name, writer => RouteJson.Write(writer, route));
            Publish(route.Name, new CompiledRoute(route, _environment, RouteStart.Fresh));
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

            _declared = _declared.Append(route.Name).ToFrozenSet(StringComparer.Ordinal);
            Publish(route.Name, new CompiledRoute(route, _environment, RouteStart.Resume));
            return true;
        }
    }

    /// <summary>Deletes a route; false when there was none.</summary>
    public bool Remove(string name)
    {
        lock (_writes)
        {
            var current = Volatile.Read(ref _routes);
            if (!ModelNames.IsValid(name) || !current.ContainsKey(name))
            {
                return false;
            }

            if (_store is not null)
            {
                _store.Delete(StateKinds.Routes, name);
                CompiledRoute.Forget(_store, name);
            }

            Unpublish(name);
            return true;
        }
    }

    /// <summary>
    /// Takes up what another replica did to route <paramref name="name"/>: set it (compiled to follow the rollout the
    /// other replica started) or deleted it. A route this table declared from the configuration stays unless the store
    /// holds one of that name.
    /// </summary>
    /// <exception cref="IOException">The store could not be read; the next sync reads everything again.</exception>
    public void Refresh(string name)
    {
        if (_store is null || !ModelNames.IsValid(name))
        {
            return;
        }

        var bytes = _store.Find(StateKinds.Routes, name);
        lock (_writes)
        {
            if (bytes is null)
            {
                if (!_declared.Contains(name) && Volatile.Read(ref _routes).ContainsKey(name))
                {
                    Unpublish(name);
                }

                return;
            }

            if (RouteJson.Read(bytes, name, 16, out var route) is null && !SameAsPublished(name, route!))
            {
                Publish(name, new CompiledRoute(route!, _environment, RouteStart.Follow));
            }
        }
    }

    /// <summary>Reads every route again (changes may have been missed while the store was unreachable).</summary>
    /// <exception cref="IOException">The store could not be read.</exception>
    public void RefreshAll()
    {
        if (_store is null)
        {
            return;
        }

        foreach (var name in StoredDefinitions.NamesToRefresh(_store, StateKinds.Routes, Volatile.Read(ref _routes).Keys))
        {
            Refresh(name);
        }
    }

    /// <summary>Takes up the rollout progress another replica saved for route <paramref name="name"/>.</summary>
    public void FollowRollout(string name)
    {
        if (TryGet(name, out var route))
        {
            route.Canary?.Follow();
        }
    }

    private bool SameAsPublished(string name, RouteDefinition route) =>
        Volatile.Read(ref _routes).TryGetValue(name, out var current) && StoredDefinitions.SameJson(current.Definition, route, RouteJson.Write);

    private IEnumerable<(string Name, RouteDefinition Route)> Saved()
    {
        IReadOnlyList<StateDocument> documents;
        try
        {
            documents = _store?.List(StateKinds.Routes) ?? [];
        }
        catch (IOException)
        {
            documents = []; // the store is down at start: the routes arrive with the first sync that reads it
        }

        foreach (var document in documents)
        {
            if (RouteJson.Read(document.Body, document.Name, 16, out var route) is null)
            {
                yield return (document.Name, route!);
            }
        }
    }

    /// <summary>Publishes <paramref name="route"/> under its name, stopping the shadow of the route it replaces.</summary>
    private void Publish(string name, CompiledRoute route)
    {
        var current = Volatile.Read(ref _routes);
        if (current.TryGetValue(name, out var replaced))
        {
            _ = replaced.Mirror.StopAsync();
        }

        var next = new Dictionary<string, CompiledRoute>(current, StringComparer.Ordinal) { [name] = route };
        Volatile.Write(ref _routes, next.ToFrozenDictionary(StringComparer.Ordinal));
    }

    private void Unpublish(string name)
    {
        var current = Volatile.Read(ref _routes);
        if (current.TryGetValue(name, out var removed))
        {
            _ = removed.Mirror.StopAsync();
            Volatile.Write(ref _routes, current.Where(r => r.Key != name).ToFrozenDictionary(StringComparer.Ordinal));
        }
    }

    /// <summary>The time of the routes: timeouts, breakers, rollouts and latencies.</summary>
    public TimeProvider Time => _environment.Time;

    /// <summary>Stops every route's shadow mirror and waits for the shadow requests running now.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var route in Volatile.Read(ref _routes).Values)
        {
            await route.Mirror.StopAsync();
        }
    }

    /// <summary>
    /// Saves every route's figures. A route whose state cannot be written (disk full, read-only, store down) is
    /// skipped and tried again at the next checkpoint; it never stops the others, the host or any request.
    /// </summary>
    /// <returns>How many routes could not be saved, and the first failure.</returns>
    public (int Failed, Exception? First) Checkpoint() => ForEachRoute(route => route.Checkpoint());

    /// <summary>
    /// Applies the feedback other replicas forwarded for requests this one served, and, on the leader, judges every
    /// running rollout on the figures of all replicas. Nothing to do with a store no one shares.
    /// </summary>
    /// <returns>How many routes could not be synced, and the first failure.</returns>
    public (int Failed, Exception? First) Sync(int maxJsonDepth) => _store is { IsShared: true }
        ? ForEachRoute(route =>
        {
            route.PullFeedback(maxJsonDepth);
            if (_store.IsLeader)
            {
                route.Canary?.Judge();
                route.TrimFeedback();
            }

            return true;
        })
        : (0, null);

    private (int Failed, Exception? First) ForEachRoute(Func<CompiledRoute, bool> action)
    {
        var failed = 0;
        Exception? first = null;
        foreach (var route in Volatile.Read(ref _routes).Values)
        {
            try
            {
                if (!action(route))
                {
                    failed++;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                failed++;
                first ??= e;
            }
        }

        return (failed, first);
    }
}
