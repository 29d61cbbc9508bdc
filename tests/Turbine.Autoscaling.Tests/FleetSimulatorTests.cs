namespace Turbine.Autoscaling.Tests;

public sealed class FleetSimulatorTests
{
    [Theory]
    [InlineData(4, 0.1, 32)]   // ρ = 0.8
    [InlineData(2, 0.05, 30)]  // ρ = 0.75
    [InlineData(8, 0.2, 36)]   // ρ = 0.9
    public void One_replica_under_poisson_load_waits_as_the_erlang_c_formula_says(int slots, double meanService, double rate)
    {
        // M/M/c: Poisson arrivals, exponential service, c servers, unbounded FIFO queue.
        var trace = ArrivalTrace.Poisson(rate, duration: 150_000 / rate, seed: 3);
        var settings = new FleetSettings(new ServiceModel(slots, meanService, QueueLimit: int.MaxValue), SyncPeriodSeconds: 1e9, SloSeconds: 1e9);

        var result = FleetSimulator.Run(trace, settings, new FixedPolicy(1), seed: 5);

        var expectedWait = ErlangCWait(slots, rate, 1 / meanService);
        Assert.Equal(0, result.Refused);
        Assert.Equal(expectedWait + meanService, result.MeanLatency, (expectedWait + meanService) * 0.05);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void More_capacity_never_lowers_attainment(int seed)
    {
        var trace = ArrivalTrace.Bursty(rate: 20, burst: 80, burstSeconds: 20, every: 120, duration: 1200, seed);
        double previous = -1;
        foreach (var replicas in new[] { 1, 2, 3, 4, 6 })
        {
            var result = FleetSimulator.Run(trace, new FleetSettings(new ServiceModel(4, 0.1, QueueLimit: 64), SloSeconds: 0.25, InitialReplicas: replicas), new FixedPolicy(replicas), seed);
            Assert.True(result.SloAttainment >= previous, $"{replicas} replicas: {result.SloAttainment} below {previous}");
            previous = result.SloAttainment;
        }

        previous = -1;
        foreach (var slots in new[] { 2, 4, 8 })
        {
            var result = FleetSimulator.Run(trace, new FleetSettings(new ServiceModel(slots, 0.1, QueueLimit: 64), SloSeconds: 0.25, InitialReplicas: 2), new FixedPolicy(2), seed);
            Assert.True(result.SloAttainment >= previous, $"{slots} slots: {result.SloAttainment} below {previous}");
            previous = result.SloAttainment;
        }
    }

    [Fact]
    public void Replica_time_counts_starting_serving_and_draining_replicas()
    {
        var trace = ArrivalTrace.Poisson(1, 600, seed: 1);

        var result = FleetSimulator.Run(trace, new FleetSettings(new ServiceModel(1, 0.01), InitialReplicas: 3), new FixedPolicy(3));

        Assert.Equal(3 * 600, result.ReplicaSeconds, 3 * 600 * 0.01);
        Assert.Equal(3 * 600 / 3600.0, result.Cost, 0.01);
    }

    [Fact]
    public void With_no_ready_replica_requests_are_refused_until_a_started_one_is_ready()
    {
        var trace = ArrivalTrace.Poisson(10, 200, seed: 2);
        var settings = new FleetSettings(new ServiceModel(4, 0.05), ColdStartSeconds: 30, ReadinessSeconds: 10, SyncPeriodSeconds: 15, InitialReplicas: 0);

        var result = FleetSimulator.Run(trace, settings, new FixedPolicy(1));

        // Asked for at the first sync (15 s), ready 40 s later: about 55 s of traffic refused.
        Assert.InRange(result.Refused, 10 * 50, 10 * 60);
    }

    /// <summary>Erlang C: the mean wait in an M/M/c queue.</summary>
    private static double ErlangCWait(int c, double lambda, double mu)
    {
        var a = lambda / mu;
        var rho = a / c;
        double sum = 0, term = 1;
        for (var k = 0; k < c; k++)
        {
            sum += term;
            term *= a / (k + 1);
        }

        var top = term / (1 - rho); // a^c / c! / (1 - ρ)
        var probabilityOfWaiting = top / (sum + top);
        return probabilityOfWaiting / ((c * mu) - lambda);
    }
}
