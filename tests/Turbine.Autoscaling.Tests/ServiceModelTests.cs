using Turbine.Autoscaling;

namespace Turbine.Autoscaling.Tests;

public sealed class ServiceModelTests
{
    private static double[] Draws(ServiceModel service, int count = 200_000)
    {
        var random = new Random(3);
        var draws = Enumerable.Range(0, count).Select(_ => service.Draw(random)).ToArray();
        Array.Sort(draws);
        return draws;
    }

    [Fact]
    public void A_measured_median_and_p99_give_log_normal_times_with_those_quantiles_and_the_matching_mean()
    {
        var service = ServiceModel.Measured(slots: 2, medianSeconds: 0.010, p99Seconds: 0.025);

        var draws = Draws(service);

        Assert.Equal(ServiceTimeShape.LogNormal, service.Shape);
        Assert.Equal(0.010, draws[draws.Length / 2], 0.0003);
        Assert.Equal(0.025, draws[(int)(draws.Length * 0.99)], 0.001);
        Assert.Equal(service.MeanServiceSeconds, draws.Average(), 0.0002);
        Assert.True(service.MeanServiceSeconds > 0.010); // skewed: the mean sits above the median
        Assert.Equal("log-normal, p99 2.50 × median", service.Describe());
    }

    [Fact]
    public void A_p99_no_higher_than_the_median_gives_constant_times_and_the_default_stays_exponential()
    {
        var constant = ServiceModel.Measured(1, 0.02, 0.02);
        Assert.All(Draws(constant, 100), t => Assert.Equal(0.02, t));

        var exponential = Draws(new ServiceModel(1, 0.02));
        Assert.Equal(0.02, exponential.Average(), 0.0003);
        Assert.Equal(0.02 * Math.Log(2), exponential[exponential.Length / 2], 0.0005); // the exponential's median
    }

    [Fact]
    public void A_bench_reports_lightest_step_sets_the_spread()
    {
        var errors = new List<string>();
        var service = BenchCapacity.Read("""
            [{"protocol":"rest","mode":"closed","load":1,"throughput_rps":100,"p50_ms":10,"p99_ms":20},
             {"protocol":"rest","mode":"closed","load":8,"throughput_rps":400,"p50_ms":20,"p99_ms":80}]
            """, errors);

        Assert.Empty(errors);
        Assert.Equal(4, service!.Slots);
        Assert.Equal(ServiceTimeShape.LogNormal, service.Shape);
        Assert.Equal("log-normal, p99 2.00 × median", service.Describe());
    }
}
