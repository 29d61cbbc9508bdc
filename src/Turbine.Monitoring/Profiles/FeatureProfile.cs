namespace Turbine.Monitoring.Profiles;

/// <summary>
/// What the reference data looked like for one feature. Numeric features keep their moments, 101 quantiles, a
/// ten-bin histogram for people and a sorted uniform sample (up to the profile's sample size) that the drift tests
/// compare windows against; features with few distinct values (categorical ones, and numbers with at most
/// <see cref="ReferenceProfile.LowCardinality"/> values) keep their category counts.
/// </summary>
public sealed record FeatureProfile
{
    /// <summary>The feature's name (<see cref="FeatureSpec.Name"/>).</summary>
    public required string Name { get; init; }

    /// <summary>Input or output.</summary>
    public FeatureSource Source { get; init; }

    /// <summary>Numeric or categorical.</summary>
    public FeatureKind Kind { get; init; }

    /// <summary>Rows seen.</summary>
    public long Count { get; init; }

    /// <summary>Rows where the value was missing: NaN or infinite numbers, empty text.</summary>
    public long Missing { get; init; }

    /// <summary>The smallest value (numeric features).</summary>
    public double Min { get; init; }

    /// <summary>The largest value (numeric features).</summary>
    public double Max { get; init; }

    /// <summary>The mean (numeric features).</summary>
    public double Mean { get; init; }

    /// <summary>The population standard deviation (numeric features).</summary>
    public double StandardDeviation { get; init; }

    /// <summary>The 0th to 100th percentiles (numeric features).</summary>
    public IReadOnlyList<double> Quantiles { get; init; } = [];

    /// <summary>Ten equal-width bins' edges over [min, max] (numeric features).</summary>
    public IReadOnlyList<double> HistogramEdges { get; init; } = [];

    /// <summary>The rows in each bin (numeric features).</summary>
    public IReadOnlyList<long> HistogramCounts { get; init; } = [];

    /// <summary>A uniform sample of the values, sorted (numeric features).</summary>
    public IReadOnlyList<double> Sample { get; init; } = [];

    /// <summary>Rows per value, when the feature has few distinct values; null otherwise.</summary>
    public IReadOnlyDictionary<string, long>? Categories { get; init; }

    /// <summary>The share of rows with a missing value.</summary>
    public double MissingShare => Count == 0 ? 0 : (double)Missing / Count;

    /// <summary>Whether the drift tests treat the feature by category counts (categorical, or numeric with few values).</summary>
    public bool ByCategory => Categories is not null;
}
