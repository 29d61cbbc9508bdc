using Turbine.Core.Statistics;

namespace Turbine.Core.Tests;

/// <summary>The tail probabilities against printed tables and closed forms.</summary>
public sealed class DistributionsTests
{
    [Theory]
    [InlineData(0, 0.5)]
    [InlineData(1, 0.15865525393145707)]
    [InlineData(1.959963984540054, 0.025)]
    [InlineData(-1.959963984540054, 0.975)]
    [InlineData(4, 3.167124183311998e-05)]
    public void Normal_tail_matches_the_table(double z, double expected)
    {
        Assert.Equal(expected, Distributions.NormalSurvival(z), 1e-10);
    }

    [Theory]
    [InlineData(3.841458820694124, 1, 0.05)]
    [InlineData(6.6348966010212145, 1, 0.01)]
    [InlineData(11.070497693516351, 5, 0.05)]
    [InlineData(18.307038053275146, 10, 0.05)]
    [InlineData(16, 1, 6.334248366623996e-05)]
    public void Chi_square_tail_matches_the_table(double x, int degrees, double expected)
    {
        Assert.Equal(expected, Distributions.ChiSquareSurvival(x, degrees), expected * 1e-7);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(3)]
    [InlineData(9.21)]
    public void Chi_square_with_two_degrees_is_an_exponential(double x)
    {
        Assert.Equal(Math.Exp(-x / 2), Distributions.ChiSquareSurvival(x, 2), 1e-12);
    }

    [Theory]
    [InlineData(1.2238478702170825, 0.10)]
    [InlineData(1.3580986393225505, 0.05)]
    [InlineData(1.6276236115189502, 0.01)]
    public void Kolmogorov_tail_matches_the_critical_values(double lambda, double expected)
    {
        Assert.Equal(expected, Distributions.KolmogorovSurvival(lambda), 1e-6);
    }

    [Fact]
    public void Log_gamma_matches_factorials_and_the_half()
    {
        Assert.Equal(Math.Log(24), Distributions.LogGamma(5), 1e-12);
        Assert.Equal(Math.Log(Math.Sqrt(Math.PI)), Distributions.LogGamma(0.5), 1e-12);
        Assert.Equal(Math.Log(3628800), Distributions.LogGamma(11), 1e-10);
    }
}
