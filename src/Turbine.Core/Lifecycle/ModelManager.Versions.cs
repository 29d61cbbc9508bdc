using System.Globalization;
using Turbine.Core.Execution;
using Turbine.Core.Repository;
using Turbine.Core.State;

namespace Turbine.Core.Lifecycle;

/// <summary>Which version serves a request: default versions, labels and rollback.</summary>
public sealed partial class ModelManager
{
    /// <summary>
    /// Finds the version that serves a request. <paramref name="version"/> is a version number, a label, or empty for
    /// the default version (the pinned one when it is ready, else the newest ready version).
    /// </summary>
    public InferenceError? Resolve(string name, string? version, out IVersionRunner? runner)
    {
        runner = null;
        if (!_models.TryGetValue(name, out var entry))
        {
            return InferenceError.NotFound($"Request for unknown model: '{ClientText.Quote(name)}' is not found");
        }

        var snapshot = entry.Snapshot;
        if (string.IsNullOrEmpty(version))
        {
            runner = (entry.Routing.DefaultVersion is { } pinned ? snapshot.Runner(pinned) : null) ?? snapshot.Runner(0);
            return runner is null ? InferenceError.Unavailable($"Request for unknown model: '{name}' has no available versions") : null;
        }

        if (!ModelNames.TryParseVersion(version, out var number))
        {
            if (!VersionRouting.IsValidLabel(version) || !entry.Routing.Labels.TryGetValue(version, out number))
            {
                return InferenceError.NotFound($"Request for unknown model: '{name}' version {ClientText.Quote(version)} is not found");
            }
        }
        else if (!snapshot.Knows(number))
        {
            return InferenceError.NotFound($"Request for unknown model: '{name}' version {ClientText.Quote(version)} is not found");
        }

        runner = snapshot.Runner(number);
        return runner is null ? InferenceError.Unavailable($"Request for unknown model: '{name}' version {ClientText.Quote(version)} is not at ready state") : null;
    }

    /// <summary>The serving view of a model: ready versions, the default one, labels.</summary>
    public InferenceError? Serving(string name, out ServingView? view)
    {
        view = null;
        if (!ModelNames.IsValid(name) || !_models.TryGetValue(name, out var entry))
        {
            return InferenceError.NotFound($"model '{ClientText.Quote(name)}' is not found");
        }

        view = ViewOf(entry);
        return null;
    }

    /// <summary>
    /// Pins the version that answers requests naming none, or unpins it (<paramref name="version"/> null: the newest
    /// ready version answers). Instant: the version must already be ready.
    /// </summary>
    public Task<(ServingView? View, InferenceError? Error)> SetDefaultVersionAsync(string name, long? version, CancellationToken cancellationToken) =>
        ChangeRoutingAsync(name, (entry, routing) =>
            version is { } v && entry.Snapshot.Runner(v)?.Version != v
                ? (null, NotReady(name, v))
                : (routing with { DefaultVersion = version }, null), cancellationToken);

    /// <summary>Points <paramref name="label"/> at a ready version, or removes it (<paramref name="version"/> null).</summary>
    public Task<(ServingView? View, InferenceError? Error)> SetLabelAsync(string name, string label, long? version, CancellationToken cancellationToken)
    {
        if (!VersionRouting.IsValidLabel(label))
        {
            return Task.FromResult<(ServingView?, InferenceError?)>((null, InferenceError.Invalid(
                $"'{ClientText.Quote(label)}' is not a valid label: a letter, then letters, digits, '_' or '-', at most 64 characters")));
        }

        return ChangeRoutingAsync(name, (entry, routing) =>
            version is { } v && entry.Snapshot.Runner(v)?.Version != v
                ? (null, NotReady(name, v))
                : (routing.WithLabel(label, version), null), cancellationToken);
    }

    /// <summary>
    /// Makes the newest ready version older than the current default the default: the instant way back from a bad
    /// version. The version rolled back from stays loaded (and reachable by number) until it is unloaded.
    /// </summary>
    public Task<(ServingView? View, InferenceError? Error)> RollbackAsync(string name, CancellationToken cancellationToken) =>
        ChangeRoutingAsync(name, (entry, routing) =>
        {
            var current = ViewOf(entry).DefaultVersion;
            long? target = null;
            foreach (var runner in entry.Snapshot.Runners)
            {
                if (runner.Version < current && (target is null || runner.Version > target))
                {
                    target = runner.Version;
                }
            }

            return target is null
                ? (null, InferenceError.Invalid($"model '{name}' has no ready version older than {current?.ToString(CultureInfo.InvariantCulture) ?? "none"} to roll back to; " +
                    "keep older versions loaded (version_policy latest with num_versions > 1, or all) to roll back instantly"))
                : (routing with { DefaultVersion = target }, null);
        }, cancellationToken);

    private async Task<(ServingView? View, InferenceError? Error)> ChangeRoutingAsync(
        string name, Func<ModelEntry, VersionRouting, (VersionRouting? Next, InferenceError? Error)> change, CancellationToken cancellationToken)
    {
        if (!ModelNames.IsValid(name) || !_models.TryGetValue(name, out var entry))
        {
            return (null, InferenceError.NotFound($"model '{ClientText.Quote(name)}' is not found"));
        }

        await entry.Gate.WaitAsync(cancellationToken);
        try
        {
            var (next, error) = change(entry, entry.Routing);
            if (error is not null)
            {
                return (null, error);
            }

            try
            {
                _routingStore.Save(name, next!); // saved first: a change that is not durable is not made
            }
            catch (StateStoreException)
            {
                return (null, InferenceError.Unavailable($"model '{name}': the state store cannot be written now, so the routing is unchanged; try again"));
            }

            entry.Routing = next!;
            LogRouting(_logger, name, next!.DefaultVersion, next.Labels.Count);
            return (ViewOf(entry), null);
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    /// <summary>
    /// Reads <paramref name="name"/>'s routing from the state store again: another replica changed it. A model this
    /// server has not loaded reads it when it loads.
    /// </summary>
    public async Task RefreshRoutingAsync(string name, CancellationToken cancellationToken)
    {
        if (!_models.TryGetValue(name, out var entry))
        {
            return;
        }

        await entry.Gate.WaitAsync(cancellationToken);
        try
        {
            var routing = _routingStore.Load(name);
            entry.Routing = routing;
            LogRouting(_logger, name, routing.DefaultVersion, routing.Labels.Count);
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    /// <summary>The models this server knows (loaded or not), for reading every routing again.</summary>
    public IReadOnlyList<string> KnownModels => [.. _models.Keys];

    private static ServingView ViewOf(ModelEntry entry)
    {
        var snapshot = entry.Snapshot;
        var routing = entry.Routing;
        var versions = snapshot.Runners.Select(r => r.Version).Order().ToList();
        var pinned = routing.DefaultVersion is { } v && versions.Contains(v);
        long? effective = pinned ? routing.DefaultVersion : versions.Count > 0 ? versions[^1] : null;
        return new ServingView(entry.Name, versions, effective, pinned, routing.Labels);
    }

    private static InferenceError NotReady(string name, long version) =>
        InferenceError.Invalid($"model '{name}' version {version} is not ready; load it first");

    [Microsoft.Extensions.Logging.LoggerMessage(EventId = LogEvents.VersionRoutingChanged, Level = Microsoft.Extensions.Logging.LogLevel.Information, Message = "Model '{Model}': pinned default version {Version} (none: the newest), {Labels} label(s)")]
    private static partial void LogRouting(Microsoft.Extensions.Logging.ILogger logger, string model, long? version, int labels);
}
