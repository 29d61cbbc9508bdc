namespace Turbine.Monitoring.Profiles;

/// <summary>
/// The reference a model version's live traffic is compared with: a profile of each feature of its training or
/// reference data, built by <c>turbine profile</c> and kept as <see cref="FileName"/> beside the version's model file
/// (so the registry carries it with the version).
/// </summary>
public sealed record ReferenceProfile
{
    /// <summary>The profile's file name in a version folder.</summary>
    public const string FileName = "profile.json";

    /// <summary>The format written in the file; a reader refuses others.</summary>
    public const string Format = "turbine.profile/1";

    /// <summary>Numbers with at most this many distinct values are compared by category, as Evidently does.</summary>
    public const int LowCardinality = 5;

    /// <summary>The model profiled.</summary>
    public required string Model { get; init; }

    /// <summary>When the profile was made.</summary>
    public DateTimeOffset Created { get; init; }

    /// <summary>Rows of reference data.</summary>
    public long Rows { get; init; }

    /// <summary>The features, in the model's layout order.</summary>
    public IReadOnlyList<FeatureProfile> Features { get; init; } = [];

    /// <summary>The classifier's confidence calibration, when the reference data had labels.</summary>
    public ConfidenceCalibration? Calibration { get; init; }

    /// <summary>The feature named <paramref name="name"/>, or null.</summary>
    public FeatureProfile? Find(string name)
    {
        foreach (var feature in Features)
        {
            if (feature.Name == name)
            {
                return feature;
            }
        }

        return null;
    }
}

/// <summary>
/// How often the classifier was right on the reference data at each level of confidence (its largest probability),
/// in bins of the confidence's log-odds (half a unit wide, from -4 to 12), fine where confident models put most of
/// their rows. Turns live confidence into expected accuracy when the model's probabilities are not calibrated (the
/// idea of NannyML's CBPE).
/// </summary>
/// <param name="Output">The probabilities output.</param>
/// <param name="Rows">Reference rows per confidence bin.</param>
/// <param name="Correct">Of those, the rows whose predicted class was the label.</param>
/// <param name="Accuracy">The accuracy over the whole reference.</param>
public sealed record ConfidenceCalibration(string Output, IReadOnlyList<long> Rows, IReadOnlyList<long> Correct, double Accuracy)
{
    /// <summary>Confidence bins.</summary>
    public const int Bins = 32;

    private const double LowestLogOdds = -4;
    private const double BinWidth = 0.5;

    /// <summary>The bin of a confidence.</summary>
    public static int BinOf(double confidence)
    {
        var clamped = Math.Clamp(confidence, 1e-9, 1 - 1e-9);
        var logOdds = Math.Log(clamped / (1 - clamped));
        return Math.Clamp((int)Math.Floor((logOdds - LowestLogOdds) / BinWidth), 0, Bins - 1);
    }

    /// <summary>
    /// The expected accuracy of a prediction made with <paramref name="confidence"/>: the bin's reference accuracy,
    /// shrunk toward the confidence itself when the bin held few rows (a prior worth 10 rows).
    /// </summary>
    public double ExpectedAccuracy(double confidence)
    {
        const double PriorRows = 10;
        var bin = BinOf(confidence);
        return (Correct[bin] + (PriorRows * confidence)) / (Rows[bin] + PriorRows);
    }
}
