namespace Turbine.Autoscaling;

/// <summary>
/// What one replica can do: <paramref name="Slots"/> requests run at once (instances × concurrency), each taking a
/// service time of mean <paramref name="MeanServiceSeconds"/> drawn from <paramref name="Shape"/> (for a log-normal,
/// <paramref name="Spread"/> is the σ of its logarithm), and at most <paramref name="QueueLimit"/> wait; more are
/// refused, as Turbine's bounded queues refuse them.
/// </summary>
public sealed record ServiceModel(int Slots, double MeanServiceSeconds, ServiceTimeShape Shape = ServiceTimeShape.Exponential, double Spread = 0, int QueueLimit = 1024)
{
    /// <summary>z of the 99th percentile of the standard normal.</summary>
    private const double Z99 = 2.3263478740;

    /// <summary>The most requests a second a replica serves.</summary>
    public double Capacity => Slots / MeanServiceSeconds;

    /// <summary>
    /// The service a benchmark measured: a lone request's median and 99th percentile fit a log-normal (service times
    /// are bounded below by the work and skewed by the rest: garbage collection, scheduling, cache misses); a p99 at
    /// or under the median gives constant times.
    /// </summary>
    public static ServiceModel Measured(int slots, double medianSeconds, double p99Seconds, int queueLimit = 1024)
    {
        if (!(p99Seconds > medianSeconds))
        {
            return new ServiceModel(slots, medianSeconds, ServiceTimeShape.Constant, QueueLimit: queueLimit);
        }

        var spread = Math.Log(p99Seconds / medianSeconds) / Z99;
        return new ServiceModel(slots, medianSeconds * Math.Exp(spread * spread / 2), ServiceTimeShape.LogNormal, spread, queueLimit);
    }

    /// <summary>One service time.</summary>
    public double Draw(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return Shape switch
        {
            ServiceTimeShape.Constant => MeanServiceSeconds,
            ServiceTimeShape.LogNormal => MeanServiceSeconds * Math.Exp((Spread * StandardNormal(random)) - (Spread * Spread / 2)),
            _ => -MeanServiceSeconds * Math.Log(1 - random.NextDouble()),
        };
    }

    /// <summary>How the times spread, for reports: "exponential", "constant", "log-normal (p99 1.8 × median)".</summary>
    public string Describe() => Shape switch
    {
        ServiceTimeShape.Constant => "constant",
        ServiceTimeShape.LogNormal => FormattableString.Invariant($"log-normal, p99 {Math.Exp(Spread * Z99):F2} × median"),
        _ => "exponential",
    };

    // Box-Muller: two uniforms, one normal (the second is dropped; the simulator draws its times once, up front).
    private static double StandardNormal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}

/// <summary>How service times spread around their mean.</summary>
public enum ServiceTimeShape
{
    /// <summary>Memoryless: the M/M/c queue's, the closed form the simulator is checked against.</summary>
    Exponential,

    /// <summary>Every request the same: a model whose work does not vary.</summary>
    Constant,

    /// <summary>Skewed to the right: a measured median and p99 (<see cref="ServiceModel.Measured"/>).</summary>
    LogNormal,
}

/// <summary>The fleet's behaviour around the policy: how replicas start, how often the autoscaler looks, and what counts as good.</summary>
/// <param name="Service">Each replica's service.</param>
/// <param name="ColdStartSeconds">From a scale-up decision to a running process (scheduling, image pull, start).</param>
/// <param name="ReadinessSeconds">From a running process to ready (models loaded and warmed).</param>
/// <param name="SyncPeriodSeconds">How often the autoscaler decides.</param>
/// <param name="InitialReplicas">Ready replicas at the start.</param>
/// <param name="SloSeconds">A request answered within this meets the objective.</param>
/// <param name="ReplicaHourPrice">What a replica costs an hour.</param>
public sealed record FleetSettings(
    ServiceModel Service, double ColdStartSeconds = 30, double ReadinessSeconds = 10, double SyncPeriodSeconds = 15, int InitialReplicas = 1,
    double SloSeconds = 0.1, double ReplicaHourPrice = 1);
