using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Turbine.Core.Execution;
using Turbine.Core.Lifecycle;
using Turbine.Monitoring.Drift;
using Turbine.Monitoring.Profiles;
using Turbine.Monitoring.Quality;

namespace Turbine.Monitoring;

/// <summary>
/// Model monitoring in the server: at each version's load it reads the version's <c>monitoring</c> settings and
/// reference profile and compiles its quality rules (<see cref="IVersionWatcher"/>); it screens requests against
/// those rules (<see cref="IRequestScreen"/>) and takes the tap's observations into each version's drift window
/// (<see cref="IInferenceObserver"/>).
/// </summary>
public sealed partial class MonitoringHub : IVersionWatcher, IRequestScreen, IInferenceObserver
{
    private static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(1);

    private readonly ConditionalWeakTable<IVersionRunner, VersionMonitor> _byRunner = [];
    private readonly ConcurrentDictionary<(string Model, string Version), (IVersionRunner Runner, VersionMonitor Monitor)> _byVersion = new();
    private readonly ConcurrentDictionary<string, long> _lastLogged = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Performance.BusinessOutcomes> _outcomes = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Action<QualityRuleCheck, string> _logBreak;
    private readonly Lock _refreshGate = new();
    private volatile bool _anyRules;
    private volatile System.Collections.Frozen.FrozenSet<string> _observed = System.Collections.Frozen.FrozenSet<string>.Empty;

    /// <summary>Creates the hub.</summary>
    public MonitoringHub(TimeProvider? time = null, ILogger<MonitoringHub>? logger = null)
    {
        _time = time ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _logBreak = LogBreak;
    }

    /// <summary>The monitors of the versions loaded now.</summary>
    public IReadOnlyList<VersionMonitor> Monitors => [.. _byVersion.Values.Select(v => v.Monitor).OrderBy(m => m.Model, StringComparer.Ordinal).ThenBy(m => m.Version, StringComparer.Ordinal)];

    /// <summary>The monitor of a loaded version, or null.</summary>
    public VersionMonitor? Find(string model, string version) => _byVersion.TryGetValue((model, version), out var entry) ? entry.Monitor : null;

    /// <inheritdoc />
    public void Loaded(VersionLoadContext context, IVersionRunner runner)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(runner);
        var errors = new List<string>();
        var settings = MonitoringSettings.Read(context.Config.SourceJson, errors);
        if (!settings.Enabled && errors.Count == 0)
        {
            return;
        }

        var layout = FeatureLayout.For(context.Config, settings.Probabilities);
        if (settings.Probabilities is { } probabilities && layout.Find($"{probabilities}:class") is null)
        {
            errors.Add($"'monitoring.probabilities' names '{ClientText.Quote(probabilities)}', which is not an output of at most {FeatureLayout.MaxRowWidth} values a row");
        }

        var profile = ReadProfile(Path.Combine(Path.GetDirectoryName(context.ModelPath) ?? ".", settings.ProfileFile), errors);
        var quality = errors.Count == 0 ? QualityRules.Compile(context.Config, layout, settings.Quality, profile, errors) : QualityRules.None;
        if (errors.Count > 0)
        {
            throw new InferenceException(InferenceError.Invalid($"model '{context.Config.Name}' version {context.Version}: monitoring: {string.Join("; ", errors)}"));
        }

        if (profile is null && settings.Probabilities is null && quality.IsEmpty && settings.LatencyTarget == TimeSpan.Zero)
        {
            return; // nothing to compare with, estimate, check or alert on
        }

        var monitor = new VersionMonitor(context.Config.Name, runner.VersionText, layout, settings, profile, quality, _time);
        _byRunner.AddOrUpdate(runner, monitor);
        _byVersion[(monitor.Model, monitor.Version)] = (runner, monitor);
        _anyRules |= !quality.IsEmpty;
        RefreshObserved();
    }

    /// <inheritdoc />
    public void Retired(IVersionRunner runner)
    {
        ArgumentNullException.ThrowIfNull(runner);
        if (_byRunner.TryGetValue(runner, out var monitor))
        {
            _byVersion.TryRemove(new KeyValuePair<(string, string), (IVersionRunner, VersionMonitor)>((monitor.Model, monitor.Version), (runner, monitor)));
            RefreshObserved();
        }
    }

    /// <inheritdoc />
    public InferenceError? Screen(IVersionRunner runner, InferenceRequest request) =>
        _anyRules && _byRunner.TryGetValue(runner, out var monitor) && !monitor.Quality.IsEmpty ? monitor.Quality.Screen(request, _logBreak) : null;

    /// <inheritdoc />
    public bool Wants(string model) => _observed.Contains(model); // asked on the request path for every sampled request

    /// <inheritdoc />
    public void Observe(ObservedInference observation)
    {
        ArgumentNullException.ThrowIfNull(observation);
        if (observation.Version is { } version && Find(observation.Model, version) is { } monitor)
        {
            monitor.Observe(observation);
        }
    }

    /// <summary>Whether a version of <paramref name="model"/> is monitored.</summary>
    public bool IsMonitored(string model) => _byVersion.Keys.Any(k => k.Model == model);

    /// <summary>The reports of the monitored versions of <paramref name="model"/> (one version when <paramref name="version"/> is set).</summary>
    public IReadOnlyList<DriftReport> Reports(string model, string? version) =>
        [.. Monitors.Where(m => m.Model == model && (version is null || m.Version == version)).Select(m => m.Report())];

    /// <summary>Records a conversion or value fed back for <paramref name="model"/>, reported beside its cost.</summary>
    public void RecordOutcome(string model, bool? converted, double? value) =>
        _outcomes.GetOrAdd(model, static _ => new Performance.BusinessOutcomes()).Add(converted, value);

    /// <summary>The business outcomes fed back per model.</summary>
    public IReadOnlyDictionary<string, Performance.BusinessOutcomes> Outcomes => _outcomes;

    /// <summary>Scores a label fed back for a request of any monitored model (a route's feedback names the route, not the model).</summary>
    public bool RecordLabel(string requestId, string label)
    {
        foreach (var (_, entry) in _byVersion)
        {
            if (entry.Monitor.RecordLabel(requestId, label))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Scores a label fed back for request <paramref name="requestId"/> of <paramref name="model"/> against the class
    /// its version predicted; false when no version of the model observed that request.
    /// </summary>
    public bool RecordLabel(string model, string requestId, string label)
    {
        foreach (var ((name, _), entry) in _byVersion)
        {
            if (name == model && entry.Monitor.RecordLabel(requestId, label))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The models whose observations are of use, rebuilt when versions come and go (rare) so that <see cref="Wants"/> is one lookup.</summary>
    private void RefreshObserved()
    {
        lock (_refreshGate)
        {
            _observed = System.Collections.Frozen.FrozenSet.ToFrozenSet(_byVersion.Where(v => v.Value.Monitor.Observes).Select(v => v.Key.Model), StringComparer.Ordinal);
        }
    }

    private static ReferenceProfile? ReadProfile(string path, List<string> errors)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        var problems = new List<string>();
        var profile = ProfileJson.Load(path, problems);
        errors.AddRange(problems.Select(p => $"{Path.GetFileName(path)}: {p}"));
        return profile;
    }

    private void LogBreak(QualityRuleCheck check, string broken)
    {
        var now = _time.GetTimestamp();
        var last = _lastLogged.GetValueOrDefault(check.Name);
        if (last != 0 && _time.GetElapsedTime(last, now) < LogInterval)
        {
            return;
        }

        _lastLogged[check.Name] = now;
        LogQualityBreak(_logger, check.Name, broken);
    }

    [LoggerMessage(EventId = LogEvents.QualityRuleBroken, Level = LogLevel.Warning, Message = "Data-quality rule {Rule} broken: {Detail}")]
    private static partial void LogQualityBreak(ILogger logger, string rule, string detail);
}
