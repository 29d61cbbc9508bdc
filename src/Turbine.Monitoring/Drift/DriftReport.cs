namespace Turbine.Monitoring.Drift;

/// <summary>
/// A model version's drift over its current window: each feature's verdict, the dataset verdict (the share of
/// drifted input features against the configured share), prediction drift (any output feature drifted), and the
/// classifier's estimated and measured accuracy.
/// </summary>
public sealed record DriftReport
{
    /// <summary>The model.</summary>
    public required string Model { get; init; }

    /// <summary>The version.</summary>
    public required string Version { get; init; }

    /// <summary>When the report was made.</summary>
    public DateTimeOffset Time { get; init; }

    /// <summary>Whether there is a reference profile to compare with.</summary>
    public bool HasProfile { get; init; }

    /// <summary>Rows in the window.</summary>
    public int WindowRows { get; init; }

    /// <summary>Rows the window needs before drift is judged.</summary>
    public int MinRows { get; init; }

    /// <summary>The window's row limit.</summary>
    public int WindowCapacity { get; init; }

    /// <summary>The window's time limit (zero: none).</summary>
    public TimeSpan WindowTime { get; init; }

    /// <summary>Whether the window had enough rows to judge.</summary>
    public bool Judged => HasProfile && WindowRows >= MinRows;

    /// <summary>Per-feature drift (empty until judged).</summary>
    public IReadOnlyList<FeatureDrift> Features { get; init; } = [];

    /// <summary>The share of input features that drifted.</summary>
    public double DriftedShare { get; init; }

    /// <summary>The share at which the dataset counts as drifted.</summary>
    public double DriftShareThreshold { get; init; }

    /// <summary>Whether the dataset drifted.</summary>
    public bool DatasetDrift { get; init; }

    /// <summary>Whether an output feature drifted.</summary>
    public bool PredictionDrift { get; init; }

    /// <summary>Features of the model not monitored, with the reason (too wide, no profile entry).</summary>
    public IReadOnlyList<string> Skipped { get; init; } = [];

    /// <summary>The classifier's performance, when the model has a probabilities output.</summary>
    public PerformanceEstimate? Performance { get; init; }
}

/// <summary>
/// A classifier's accuracy without labels, estimated from its confidence (calibrated on the reference's labels when
/// the profile has them), beside the accuracy measured from labelled feedback when any arrived.
/// </summary>
/// <param name="EstimatedAccuracy">The expected accuracy over the window's rows.</param>
/// <param name="Calibrated">Whether the estimate used the reference's calibration (else the confidence is taken at its word).</param>
/// <param name="ReferenceAccuracy">The accuracy on the reference data, when it had labels.</param>
/// <param name="MeasuredAccuracy">The accuracy over the latest labelled feedback, when any arrived.</param>
/// <param name="Labelled">Labels in that measurement.</param>
public sealed record PerformanceEstimate(double EstimatedAccuracy, bool Calibrated, double? ReferenceAccuracy, double? MeasuredAccuracy, int Labelled);
