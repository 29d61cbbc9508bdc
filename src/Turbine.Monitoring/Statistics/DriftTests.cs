using Turbine.Core.Statistics;

namespace Turbine.Monitoring.Statistics;

/// <summary>
/// The two-sample drift statistics, each as Evidently defines it so that thresholds carry over: Kolmogorov-Smirnov
/// and the chi-square and proportion tests give p-values (drift below the level), the population stability index,
/// the Jensen-Shannon distance and the Wasserstein distance normed by the reference's standard deviation give
/// distances (drift at or above the threshold). Numeric samples come sorted; binned ones as proportions over the same
/// bins.
/// </summary>
public static class DriftTests
{
    /// <summary>The share an empty bin is given, so that logarithms stay finite (Evidently's choice).</summary>
    public const double EmptyBinShare = 0.0001;

    /// <summary>The two-sample Kolmogorov-Smirnov statistic D and its asymptotic p-value (with Stephens' small-sample correction).</summary>
    public static (double Statistic, double PValue) KolmogorovSmirnov(ReadOnlySpan<double> sortedReference, ReadOnlySpan<double> sortedCurrent)
    {
        int n = sortedReference.Length, m = sortedCurrent.Length;
        if (n == 0 || m == 0)
        {
            return (0, 1);
        }

        var statistic = 0.0;
        int i = 0, j = 0;
        while (i < n && j < m)
        {
            var value = Math.Min(sortedReference[i], sortedCurrent[j]);
            while (i < n && sortedReference[i] <= value)
            {
                i++;
            }

            while (j < m && sortedCurrent[j] <= value)
            {
                j++;
            }

            statistic = Math.Max(statistic, Math.Abs(((double)i / n) - ((double)j / m)));
        }

        var effective = Math.Sqrt((double)n * m / (n + m));
        return (statistic, Distributions.KolmogorovSurvival((effective + 0.12 + (0.11 / effective)) * statistic));
    }

    /// <summary>The first Wasserstein (earth mover's) distance between two samples: the area between their CDFs.</summary>
    public static double Wasserstein(ReadOnlySpan<double> sortedA, ReadOnlySpan<double> sortedB)
    {
        int n = sortedA.Length, m = sortedB.Length;
        if (n == 0 || m == 0)
        {
            return 0;
        }

        double distance = 0, previous = Math.Min(sortedA[0], sortedB[0]);
        int i = 0, j = 0;
        while (i < n || j < m)
        {
            var value = j >= m || (i < n && sortedA[i] <= sortedB[j]) ? sortedA[i] : sortedB[j];
            distance += Math.Abs(((double)i / n) - ((double)j / m)) * (value - previous);
            while (i < n && sortedA[i] <= value)
            {
                i++;
            }

            while (j < m && sortedB[j] <= value)
            {
                j++;
            }

            previous = value;
        }

        return distance;
    }

    /// <summary>The Wasserstein distance in units of the reference's standard deviation (at least 0.001), Evidently's normed form.</summary>
    public static double NormedWasserstein(ReadOnlySpan<double> sortedReference, ReadOnlySpan<double> sortedCurrent) =>
        Wasserstein(sortedReference, sortedCurrent) / Math.Max(StandardDeviation(sortedReference), 0.001);

    /// <summary>
    /// Both samples as shares of <paramref name="bins"/> equal-width bins over their joint range (numpy's edges: the
    /// last bin closed), empty bins given <see cref="EmptyBinShare"/>.
    /// </summary>
    public static (double[] Reference, double[] Current) Bin(ReadOnlySpan<double> sortedReference, ReadOnlySpan<double> sortedCurrent, int bins = 10)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        var low = Math.Min(sortedReference[0], sortedCurrent[0]);
        var high = Math.Max(sortedReference[^1], sortedCurrent[^1]);
        if (high <= low)
        {
            (low, high) = (low - 0.5, low + 0.5); // numpy's range for a single value
        }

        return (Shares(sortedReference, low, high, bins), Shares(sortedCurrent, low, high, bins));
    }

    /// <summary>Counts as shares, empty ones given <see cref="EmptyBinShare"/>.</summary>
    public static double[] Shares(ReadOnlySpan<long> counts)
    {
        long total = 0;
        foreach (var count in counts)
        {
            total += count;
        }

        var shares = new double[counts.Length];
        for (var k = 0; k < shares.Length; k++)
        {
            shares[k] = counts[k] == 0 || total == 0 ? EmptyBinShare : (double)counts[k] / total;
        }

        return shares;
    }

    /// <summary>The population stability index: Σ (current − reference) · ln(current / reference) over the bins.</summary>
    public static double PopulationStability(ReadOnlySpan<double> reference, ReadOnlySpan<double> current)
    {
        var sum = 0.0;
        for (var k = 0; k < reference.Length; k++)
        {
            sum += (current[k] - reference[k]) * Math.Log(current[k] / reference[k]);
        }

        return sum;
    }

    /// <summary>The Jensen-Shannon distance (the square root of the divergence, natural logarithm) between two binned distributions, each normalized first.</summary>
    public static double JensenShannonDistance(ReadOnlySpan<double> reference, ReadOnlySpan<double> current)
    {
        double totalP = 0, totalQ = 0;
        for (var k = 0; k < reference.Length; k++)
        {
            totalP += reference[k];
            totalQ += current[k];
        }

        var divergence = 0.0;
        for (var k = 0; k < reference.Length; k++)
        {
            double p = reference[k] / totalP, q = current[k] / totalQ, mid = (p + q) / 2;
            divergence += (RelativeEntropy(p, mid) + RelativeEntropy(q, mid)) / 2;
        }

        return Math.Sqrt(Math.Max(divergence, 0));
    }

    /// <summary>
    /// Pearson's chi-square goodness-of-fit p-value of the current category counts against the reference's shares
    /// scaled to the current total; a category the reference never saw makes the p-value 0.
    /// </summary>
    public static double ChiSquarePValue(ReadOnlySpan<long> referenceCounts, ReadOnlySpan<long> currentCounts)
    {
        long referenceTotal = 0, currentTotal = 0;
        for (var k = 0; k < referenceCounts.Length; k++)
        {
            referenceTotal += referenceCounts[k];
            currentTotal += currentCounts[k];
        }

        if (referenceTotal == 0 || currentTotal == 0)
        {
            return 1;
        }

        var scale = (double)currentTotal / referenceTotal;
        double statistic = 0;
        var categories = 0;
        for (var k = 0; k < referenceCounts.Length; k++)
        {
            var expected = referenceCounts[k] * scale;
            if (expected == 0)
            {
                if (currentCounts[k] > 0)
                {
                    return 0;
                }

                continue;
            }

            categories++;
            var difference = currentCounts[k] - expected;
            statistic += difference * difference / expected;
        }

        return categories < 2 ? 1 : Distributions.ChiSquareSurvival(statistic, categories - 1);
    }

    /// <summary>The two-sided p-value of the z-test for the difference of two independent proportions (pooled variance).</summary>
    public static double ProportionZPValue(long referenceHits, long referenceTotal, long currentHits, long currentTotal)
    {
        if (referenceTotal == 0 || currentTotal == 0)
        {
            return 1;
        }

        double p1 = (double)referenceHits / referenceTotal, p2 = (double)currentHits / currentTotal;
        var pooled = (double)(referenceHits + currentHits) / (referenceTotal + currentTotal);
        var variance = pooled * (1 - pooled) * ((1.0 / referenceTotal) + (1.0 / currentTotal));
        return variance <= 0 ? 1 : 2 * Distributions.NormalSurvival(Math.Abs(p1 - p2) / Math.Sqrt(variance));
    }

    /// <summary>The population standard deviation (numpy's default, ddof = 0).</summary>
    public static double StandardDeviation(ReadOnlySpan<double> values)
    {
        if (values.Length == 0)
        {
            return 0;
        }

        double mean = 0, squares = 0;
        for (var k = 0; k < values.Length; k++)
        {
            var delta = values[k] - mean;
            mean += delta / (k + 1);
            squares += delta * (values[k] - mean);
        }

        return Math.Sqrt(squares / values.Length);
    }

    private static double RelativeEntropy(double p, double q) => p > 0 ? p * Math.Log(p / q) : 0;

    private static double[] Shares(ReadOnlySpan<double> sorted, double low, double high, int bins)
    {
        var counts = new long[bins];
        var width = (high - low) / bins;
        foreach (var value in sorted)
        {
            var bin = (int)((value - low) / width);
            counts[Math.Clamp(bin, 0, bins - 1)]++;
        }

        return Shares(counts);
    }
}
