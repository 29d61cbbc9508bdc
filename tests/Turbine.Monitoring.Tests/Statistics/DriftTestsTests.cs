using Turbine.Monitoring.Statistics;

namespace Turbine.Monitoring.Tests.Statistics;

/// <summary>Each drift statistic against a value worked out by hand or a closed form.</summary>
public sealed class DriftTestsTests
{
    [Fact]
    public void Kolmogorov_smirnov_is_the_largest_gap_between_the_empirical_cdfs()
    {
        Assert.Equal(1, DriftTests.KolmogorovSmirnov([1, 2, 3, 4], [5, 6, 7, 8]).Statistic);
        Assert.Equal(1.0 / 3, DriftTests.KolmogorovSmirnov([1, 2, 3], [2, 3, 4]).Statistic, 12);
        Assert.Equal(0, DriftTests.KolmogorovSmirnov([1, 2, 3], [1, 2, 3]).Statistic);
    }

    [Fact]
    public void Kolmogorov_smirnov_p_value_follows_the_asymptotic_distribution()
    {
        // n = m = 2000: the effective size is 1000, so D = 1.358 / (√1000 + 0.12 + 0.11/√1000) sits at the 5% point.
        var effective = Math.Sqrt(1000);
        var d = 1.3580986393225505 / (effective + 0.12 + (0.11 / effective));
        var reference = Enumerable.Range(0, 2000).Select(i => (double)i).ToArray();
        var shift = d * 2000;
        var current = reference.Select(v => v + shift).ToArray();

        var (statistic, p) = DriftTests.KolmogorovSmirnov(reference, current);

        Assert.Equal(d, statistic, 3);
        Assert.InRange(p, 0.04, 0.06);
    }

    [Fact]
    public void Wasserstein_is_the_area_between_the_cdfs()
    {
        Assert.Equal(3, DriftTests.Wasserstein([0], [3]), 12);
        Assert.Equal(0.5, DriftTests.Wasserstein([0, 1], [0, 2]), 12);
        Assert.Equal(5, DriftTests.Wasserstein([0, 1, 3], [5, 6, 8]), 12);
        var sample = Enumerable.Range(0, 100).Select(i => Math.Sqrt(i)).ToArray();
        Assert.Equal(2.5, DriftTests.Wasserstein(sample, [.. sample.Select(v => v + 2.5)]), 9);
    }

    [Fact]
    public void Normed_wasserstein_divides_by_the_reference_standard_deviation()
    {
        double[] reference = [-1, 1]; // σ = 1
        Assert.Equal(0.5, DriftTests.NormedWasserstein(reference, [-0.5, 1.5]), 12);
    }

    [Fact]
    public void Population_stability_index_matches_the_worked_example()
    {
        // (0.25 − 0.5)·ln(0.25/0.5) + (0.75 − 0.5)·ln(0.75/0.5)
        Assert.Equal(0.27465307216702745, DriftTests.PopulationStability([0.5, 0.5], [0.25, 0.75]), 12);
        Assert.Equal(0, DriftTests.PopulationStability([0.2, 0.8], [0.2, 0.8]));
    }

    [Fact]
    public void Jensen_shannon_distance_is_root_ln2_for_disjoint_and_zero_for_equal_distributions()
    {
        Assert.Equal(Math.Sqrt(Math.Log(2)), DriftTests.JensenShannonDistance([1, 0], [0, 1]), 12);
        Assert.Equal(0, DriftTests.JensenShannonDistance([0.3, 0.7], [3, 7]), 12);
    }

    [Fact]
    public void Binning_uses_equal_width_bins_over_the_joint_range()
    {
        var (reference, current) = DriftTests.Bin([0, 1, 2, 3], [6, 7, 8, 9, 10], bins: 2);

        Assert.Equal([1, DriftTests.EmptyBinShare], reference);
        Assert.Equal([DriftTests.EmptyBinShare, 1], current);
    }

    [Fact]
    public void Chi_square_compares_current_counts_with_scaled_reference_shares()
    {
        // expected 50/50, observed 30/70: χ² = 16 with one degree of freedom, P(|Z| > 4).
        Assert.Equal(6.334248366623996e-05, DriftTests.ChiSquarePValue([500, 500], [30, 70]), 1e-10);
        Assert.Equal(1, DriftTests.ChiSquarePValue([500, 500], [50, 50]), 12);
        Assert.Equal(0, DriftTests.ChiSquarePValue([500, 500, 0], [50, 49, 1]));
    }

    [Fact]
    public void Proportion_z_test_matches_the_pooled_formula()
    {
        // p1 = 0.5, p2 = 0.3, pooled 0.4: z = 0.2 / √(0.24 · 0.02) = 2.8868, two-sided p = 0.00389.
        Assert.Equal(0.003892, DriftTests.ProportionZPValue(50, 100, 30, 100), 5);
        Assert.Equal(1, DriftTests.ProportionZPValue(50, 100, 50, 100), 12);
    }
}
