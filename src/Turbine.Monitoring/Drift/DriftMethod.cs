namespace Turbine.Monitoring.Drift;

/// <summary>A drift test and how it judges: p-values drift below the level, distances at or above the threshold.</summary>
public enum DriftMethod
{
    /// <summary>Two-sample Kolmogorov-Smirnov (numeric; p-value).</summary>
    KolmogorovSmirnov,

    /// <summary>Wasserstein distance over the reference's standard deviation (numeric; distance).</summary>
    Wasserstein,

    /// <summary>Population stability index over ten bins or the categories (distance).</summary>
    PopulationStability,

    /// <summary>Jensen-Shannon distance over ten bins or the categories (distance).</summary>
    JensenShannon,

    /// <summary>Pearson's chi-square over the categories (p-value).</summary>
    ChiSquare,

    /// <summary>Z-test of two proportions, for two categories (p-value).</summary>
    ProportionZ,
}

/// <summary>Names, defaults and judgement of the drift methods.</summary>
public static class DriftMethods
{
    /// <summary>Reference sizes up to this use the statistical tests; larger ones the distances (Evidently's rule).</summary>
    public const long SmallReference = 1000;

    /// <summary>The method's name in configuration, reports and metrics.</summary>
    public static string Name(this DriftMethod method) => method switch
    {
        DriftMethod.KolmogorovSmirnov => "ks",
        DriftMethod.Wasserstein => "wasserstein",
        DriftMethod.PopulationStability => "psi",
        DriftMethod.JensenShannon => "jensenshannon",
        DriftMethod.ChiSquare => "chisquare",
        _ => "z",
    };

    /// <summary>The method named <paramref name="name"/>.</summary>
    public static bool TryParse(string? name, out DriftMethod method)
    {
        foreach (var candidate in Enum.GetValues<DriftMethod>())
        {
            if (candidate.Name() == name)
            {
                method = candidate;
                return true;
            }
        }

        method = default;
        return false;
    }

    /// <summary>Whether the method's score is a p-value (drift below the level) rather than a distance.</summary>
    public static bool IsTest(this DriftMethod method) => method is DriftMethod.KolmogorovSmirnov or DriftMethod.ChiSquare or DriftMethod.ProportionZ;

    /// <summary>The default level or threshold: 0.05 for tests, 0.1 for distances (Evidently's).</summary>
    public static double DefaultThreshold(this DriftMethod method) => method.IsTest() ? 0.05 : 0.1;

    /// <summary>Whether a score means drift.</summary>
    public static bool Drifted(this DriftMethod method, double score, double threshold) => method.IsTest() ? score < threshold : score >= threshold;

    /// <summary>
    /// The method Evidently picks for a feature: with a reference of up to <see cref="SmallReference"/> rows,
    /// Kolmogorov-Smirnov for numbers with many values, the z-test for two categories and chi-square for more;
    /// with a larger reference, the normed Wasserstein distance for numbers with many values and the Jensen-Shannon
    /// distance for categories.
    /// </summary>
    public static DriftMethod DefaultFor(bool byCategory, int categories, long referenceRows) => (referenceRows <= SmallReference, byCategory) switch
    {
        (true, false) => DriftMethod.KolmogorovSmirnov,
        (true, true) => categories <= 2 ? DriftMethod.ProportionZ : DriftMethod.ChiSquare,
        (false, false) => DriftMethod.Wasserstein,
        (false, true) => DriftMethod.JensenShannon,
    };
}
