using System.Collections.Frozen;
using Turbine.Core.Lifecycle;
using Turbine.Core.Repository;

namespace Turbine.Traffic;

/// <summary>
/// The routes a server knows, as one immutable map swapped atomically: a change is validated, saved, then published,
/// so a request sees the old route or the new one, never a mix. Routes are kept in <c>&lt;state&gt;/routes/*.json</c>
/// and read back at start, which is also how a repository declares them. A route replaced or removed stops its
/// shadow mirror; disposing the table stops them all.
/// </summary>
public sealed class RouteTable : IAsyncDisposable
{
    private readonly DefinitionFolder _folder;
    private readonly Lock _writes = new();
    private FrozenDictionary<string, CompiledRoute> _routes = FrozenDictionary<string, CompiledRoute>.Empty;

    private readonly RouteEnvironment _environment;

    /// <summary>Creates a table kept in <paramref name="folder"/> (null: in memory), reading the routes saved there.</summary>
    /// <param name="folder">Where routes are saved; null keeps them in memory.</param>
    /// <param name="time">The clock of the routes' timeouts, circuit breakers and rollouts.</param>
    /// <param name="cpuUtilization">The process's share of all cores, for shadows to step aside (default: <see cref="ProcessCpu"/>).</param>
    public RouteTable(string? folder, TimeProvider? time = null, Func<double>? cpuUtilization = null)
    {
        _folder = new DefinitionFolder(folder);
        _environment = new RouteEnvironment(time ?? TimeProvider.System, _folder.Path, cpuUtilization ?? (() => ProcessCpu.Utilization));
        var loaded = new Dictionary<string, CompiledRoute>(StringComparer.Ordinal);
        foreach (var (name, json) in _folder.ReadAll())
        {
            if (RouteJson.Read(json, name, 16, out var route) is null)
            {
                loaded[name] = new CompiledRoute(route!, _environment, resume: true);
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
                _ = replaced.Mirror.StopAsync();
            }

            var next = new Dictionary<string, CompiledRoute>(Volatile.Read(ref _routes), StringComparer.Ordinal)
            {
                [route.Name] = new CompiledRoute(route, _environment, resume: false),
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

            var next = new Dictionary<string, CompiledRoute>(current, StringComparer.Ordinal) { [route.Name] = new CompiledRoute(route, _environment, resume: true) };
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
            _ = removed.Mirror.StopAsync();
            Volatile.Write(ref _routes, current.Where(r => r.Key != name).ToFrozenDictionary(StringComparer.Ordinal));
            return true;
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
    public (int Failed, Exception? First) Checkpoint()
    {
        var failed = 0;
        Exception? first = null;
        foreach (var route in Volatile.Read(ref _routes).Values)
        {
            try
            {
                if (!route.Checkpoint())
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
