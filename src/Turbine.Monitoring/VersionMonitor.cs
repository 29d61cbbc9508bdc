using Turbine.Monitoring.Drift;
using Turbine.Monitoring.Performance;
using Turbine.Monitoring.Profiles;
using Turbine.Monitoring.Quality;

namespace Turbine.Monitoring;

/// <summary>
/// Everything monitored about one loaded model version: its features, reference profile and settings, the window of
/// its latest observed rows, its quality rules, and the labels fed back for its predictions. Observations arrive on
/// the tap's thread; reports are made on demand (the drift endpoint, a metrics scrape) and kept for a second.
/// </summary>
public sealed class VersionMonitor
{
    private static readonly TimeSpan ReportLifetime = TimeSpan.FromSeconds(1);

    private readonly Lock _gate = new();
    private readonly RowWindow _window;
    private readonly LabelFeedback _labels = new();
    private readonly TimeProvider _time;
    private readonly int _predictedClass;
    private DriftReport? _report;
    private long _reportRows;
    private long _observations;
    private long _rows;

    /// <summary>Creates the monitor of a version.</summary>
    public VersionMonitor(string model, string version, FeatureLayout layout, MonitoringSettings settings, ReferenceProfile? profile, QualityRules quality, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(settings);
        Model = model;
        Version = version;
        Layout = layout;
        Settings = settings;
        Profile = profile;
        Quality = quality;
        _time = time;
        _window = new RowWindow(layout, settings.WindowRows);
        _predictedClass = ProfileBuilder.IndexOfPredictedClass(layout);
    }

    /// <summary>The model.</summary>
    public string Model { get; }

    /// <summary>The version.</summary>
    public string Version { get; }

    /// <summary>The monitored features.</summary>
    public FeatureLayout Layout { get; }

    /// <summary>The settings it was loaded with.</summary>
    public MonitoringSettings Settings { get; }

    /// <summary>The reference profile, when the version has one.</summary>
    public ReferenceProfile? Profile { get; }

    /// <summary>The data-quality rules.</summary>
    public QualityRules Quality { get; }

    /// <summary>Whether observations are of use: there is a profile to compare with or a classifier to estimate.</summary>
    public bool Observes => Profile is not null || _predictedClass >= 0;

    /// <summary>Observations seen.</summary>
    public long Observations => Interlocked.Read(ref _observations);

    /// <summary>Rows seen.</summary>
    public long Rows => Interlocked.Read(ref _rows);

    /// <summary>Takes one observed request into the window (a failed one is not).</summary>
    public void Observe(ObservedInference observation)
    {
        ArgumentNullException.ThrowIfNull(observation);
        if (observation.Error is not null || FeatureTable.Read(Layout, observation.Inputs, observation.Outputs) is not { } table)
        {
            return;
        }

        if (_predictedClass >= 0 && observation.RequestId is { } id && table.Rows == 1 && table.Category(_predictedClass, 0) is { } predicted)
        {
            _labels.Remember(id, predicted);
        }

        lock (_gate)
        {
            _window.Add(table, observation.Time.ToUnixTimeMilliseconds());
            Interlocked.Increment(ref _observations);
            Interlocked.Add(ref _rows, table.Rows);
        }
    }

    /// <summary>Scores a label fed back for a request; false when its prediction was not observed (or is long gone).</summary>
    public bool RecordLabel(string requestId, string label) => _predictedClass >= 0 && _labels.Record(requestId, label);

    /// <summary>The drift over the current window (made again when rows arrived, or a second passed: scrapes of an idle server reuse it).</summary>
    public DriftReport Report()
    {
        var now = _time.GetUtcNow();
        WindowSnapshot snapshot;
        long rows;
        lock (_gate)
        {
            rows = Rows;
            if (_report is { } recent && now - recent.Time < ReportLifetime && _reportRows == rows)
            {
                return recent;
            }

            snapshot = _window.Take(Settings.WindowTime > TimeSpan.Zero ? (now - Settings.WindowTime).ToUnixTimeMilliseconds() : long.MinValue);
        }

        var report = Evaluate(snapshot, now);
        lock (_gate)
        {
            (_report, _reportRows) = (report, rows);
        }

        return report;
    }

    private DriftReport Evaluate(WindowSnapshot window, DateTimeOffset now)
    {
        var report = new DriftReport
        {
            Model = Model,
            Version = Version,
            Time = now,
            HasProfile = Profile is not null,
            WindowRows = window.Rows,
            MinRows = Settings.MinRows,
            WindowCapacity = Settings.WindowRows,
            WindowTime = Settings.WindowTime,
            DriftShareThreshold = Settings.DriftShare,
            Skipped = Layout.Skipped,
            Performance = Performance(window),
        };
        if (Profile is not { } profile)
        {
            return report;
        }

        var skipped = new List<string>(Layout.Skipped);
        var features = new List<FeatureDrift>();
        for (var f = 0; f < Layout.Features.Count && window.Rows >= Settings.MinRows; f++)
        {
            var spec = Layout.Features[f];
            if (profile.Find(spec.Name) is not { } reference)
            {
                skipped.Add($"'{spec.Name}': not in the profile");
                continue;
            }

            var choice = Settings.Features.GetValueOrDefault(spec.Name);
            var drift = spec.Kind == FeatureKind.Numeric
                ? FeatureDriftEvaluator.Numeric(reference, profile.Rows, window.Numbers[f], choice)
                : FeatureDriftEvaluator.Categorical(reference, profile.Rows, window.Categories[f], choice);
            if (drift is not null)
            {
                features.Add(drift);
            }
        }

        var inputs = features.Count(d => !d.IsOutput);
        var share = inputs == 0 ? 0 : (double)features.Count(d => !d.IsOutput && d.Drifted) / inputs;
        return report with
        {
            Features = features,
            Skipped = skipped,
            DriftedShare = share,
            DatasetDrift = inputs > 0 && share >= Settings.DriftShare,
            PredictionDrift = features.Any(d => d.IsOutput && d.Drifted),
        };
    }

    private PerformanceEstimate? Performance(WindowSnapshot window)
    {
        if (_predictedClass < 0)
        {
            return null;
        }

        var calibration = Profile?.Calibration;
        double sum = 0;
        var rows = 0;
        foreach (var confidence in window.Confidence)
        {
            if (double.IsFinite(confidence))
            {
                sum += calibration?.ExpectedAccuracy(confidence) ?? confidence;
                rows++;
            }
        }

        var (measured, labelled) = _labels.Measured();
        return rows == 0 && labelled == 0 ? null : new PerformanceEstimate(rows == 0 ? double.NaN : sum / rows, calibration is not null, calibration?.Accuracy, measured, labelled);
    }
}
