using Turbine.Traffic;

namespace Turbine.Traffic.Tests;

/// <summary>The report's statistics against values computed independently (closed forms and numeric integration).</summary>
public sealed class TwoSampleTestsTests
{
    [Fact]
    public void The_two_proportion_z_test_matches_the_closed_form()
    {
        var (z, p) = TwoSampleTests.TwoProportionZ(200, 1000, 250, 1000);

        Assert.Equal(2.677398, z, 5);
        Assert.Equal(0.007420, p, 5);
        Assert.Equal((0.0, 1.0), TwoSampleTests.TwoProportionZ(0, 0, 5, 10));
    }

    [Fact]
    public void Welchs_t_test_matches_a_textbook_example()
    {
        double[] a = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4];
        double[] b = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4];
        var armA = new ArmOutcomes();
        var armB = new ArmOutcomes();
        Array.ForEach(a, armA.AddValue);
        Array.ForEach(b, armB.AddValue);
        var sa = armA.Snapshot();
        var sb = armB.Snapshot();

        var (t, df, p) = TwoSampleTests.WelchT(sa.Count, sa.Mean, sa.Variance, sb.Count, sb.Mean, sb.Variance);

        Assert.Equal(7.867429, sa.Variance, 5);
        Assert.Equal(2.455356, t, 5);
        Assert.Equal(24.98853, df, 4);
        Assert.Equal(0.021378, p, 5);
    }

    [Theory]
    [InlineData(-2.1, 7.5, 0.03561854)]
    [InlineData(1.3, 30, 0.89824950)]
    [InlineData(0, 3, 0.5)]
    public void The_t_distribution_matches_numeric_integration(double t, double df, double expected) =>
        Assert.Equal(expected, TwoSampleTests.StudentTCdf(t, df), 6);

    [Fact]
    public void Intervals_contain_their_estimate_and_narrow_with_data()
    {
        var (low, high) = TwoSampleTests.WilsonInterval(30, 100);
        var (wideLow, wideHigh) = TwoSampleTests.WilsonInterval(3, 10);

        Assert.InRange(0.3, low, high);
        Assert.True(high - low < wideHigh - wideLow);
        Assert.Equal(2.262157, TwoSampleTests.StudentTQuantile(0.975, 9), 5);
        Assert.Equal(0.975, TwoSampleTests.NormalCdf(1.959964), 6);
    }
}
