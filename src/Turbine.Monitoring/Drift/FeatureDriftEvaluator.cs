using Turbine.Monitoring.Profiles;
using Turbine.Monitoring.Statistics;

namespace Turbine.Monitoring.Drift;

/// <summary>Compares one feature's window with its reference profile by every statistic that applies, and judges by one.</summary>
public static class FeatureDriftEvaluator
{
    /// <summary>A numeric feature compared by its distribution (the window's values, NaN for missing).</summary>
    /// <param name="reference">The feature's profile.</param>
    /// <param name="referenceRows">Rows of the reference, which picks the default method.</param>
    /// <param name="window">The window's values.</param>
    /// <param name="choice">The configured method and threshold, if any.</param>
    public static FeatureDrift? Numeric(FeatureProfile reference, long referenceRows, ReadOnlySpan<double> window, FeatureDriftOptions? choice)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var present = new List<double>(window.Length);
        foreach (var value in window)
        {
            if (double.IsFinite(value))
            {
                present.Add(value);
            }
        }

        if (reference.ByCategory)
        {
            var texts = new string?[window.Length];
            for (var k = 0; k < window.Length; k++)
            {
                texts[k] = double.IsFinite(window[k]) ? window[k].ToString("R", System.Globalization.CultureInfo.InvariantCulture) : null;
            }

            return Categorical(reference, referenceRows, texts, choice);
        }

        if (present.Count == 0 || reference.Sample.Count == 0)
        {
            return null;
        }

        var current = present.ToArray();
        Array.Sort(current);
        var sample = reference.Sample as double[] ?? [.. reference.Sample];
        var (ks, ksP) = DriftTests.KolmogorovSmirnov(sample, current);
        var wasserstein = DriftTests.NormedWasserstein(sample, current);
        var (referenceBins, currentBins) = DriftTests.Bin(sample, current);
        var psi = DriftTests.PopulationStability(referenceBins, currentBins);
        var js = DriftTests.JensenShannonDistance(referenceBins, currentBins);
        var method = choice?.Method ?? DriftMethods.DefaultFor(byCategory: false, 0, referenceRows);
        if (method is DriftMethod.ChiSquare or DriftMethod.ProportionZ)
        {
            method = DriftMethods.DefaultFor(byCategory: false, 0, referenceRows); // category tests do not apply to a number with many values
        }

        var score = method switch
        {
            DriftMethod.KolmogorovSmirnov => ksP,
            DriftMethod.Wasserstein => wasserstein,
            DriftMethod.PopulationStability => psi,
            _ => js,
        };
        var threshold = choice?.Threshold ?? method.DefaultThreshold();
        return new FeatureDrift(
            reference.Name, reference.Source == FeatureSource.Output, method, score, threshold, method.Drifted(score, threshold), current.Length,
            MissingShare(window.Length, current.Length), reference.MissingShare, psi, js, ks, ksP, wasserstein, null, null);
    }

    /// <summary>A feature compared by its category counts (the window's values, null for missing).</summary>
    public static FeatureDrift? Categorical(FeatureProfile reference, long referenceRows, ReadOnlySpan<string?> window, FeatureDriftOptions? choice)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var categories = reference.Categories ?? new Dictionary<string, long>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var referenceCounts = new List<long>();
        foreach (var (category, count) in categories)
        {
            index[category] = referenceCounts.Count;
            referenceCounts.Add(count);
        }

        var currentCounts = new long[referenceCounts.Count + 1]; // the last: values the reference never had
        var present = 0;
        foreach (var value in window)
        {
            if (value is null)
            {
                continue;
            }

            present++;
            currentCounts[index.TryGetValue(value, out var at) ? at : referenceCounts.Count]++;
        }

        if (present == 0 || referenceCounts.Count == 0)
        {
            return null;
        }

        referenceCounts.Add(0);
        var referenceArray = referenceCounts.ToArray();
        var referenceShares = DriftTests.Shares(referenceArray);
        var currentShares = DriftTests.Shares(currentCounts);
        var psi = DriftTests.PopulationStability(referenceShares, currentShares);
        var js = DriftTests.JensenShannonDistance(referenceShares, currentShares);
        var chi = DriftTests.ChiSquarePValue(referenceArray, currentCounts);
        double? z = categories.Count <= 2 && currentCounts[^1] == 0
            ? DriftTests.ProportionZPValue(referenceArray[0], referenceArray.Sum(), currentCounts[0], present)
            : null;
        var method = choice?.Method ?? DriftMethods.DefaultFor(byCategory: true, categories.Count, referenceRows);
        if (method is DriftMethod.KolmogorovSmirnov or DriftMethod.Wasserstein || (method == DriftMethod.ProportionZ && z is null))
        {
            method = referenceRows <= DriftMethods.SmallReference ? DriftMethod.ChiSquare : DriftMethod.JensenShannon; // numeric tests do not apply to categories
        }

        var score = method switch
        {
            DriftMethod.ProportionZ => z!.Value,
            DriftMethod.ChiSquare => chi,
            DriftMethod.PopulationStability => psi,
            _ => js,
        };
        var threshold = choice?.Threshold ?? method.DefaultThreshold();
        return new FeatureDrift(
            reference.Name, reference.Source == FeatureSource.Output, method, score, threshold, method.Drifted(score, threshold), present,
            MissingShare(window.Length, present), reference.MissingShare, psi, js, null, null, null, chi, z);
    }

    private static double MissingShare(int rows, int present) => rows == 0 ? 0 : (double)(rows - present) / rows;
}

/// <summary>A feature's configured drift method and threshold (<c>monitoring.features</c>).</summary>
/// <param name="Method">The method, or null for the default.</param>
/// <param name="Threshold">The threshold or level, or null for the method's default.</param>
public sealed record FeatureDriftOptions(DriftMethod? Method, double? Threshold);
