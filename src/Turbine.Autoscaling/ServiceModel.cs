namespace Turbine.Autoscaling;

/// <summary>
/// What one replica can do: <paramref name="Slots"/> requests run at once (instances × concurrency), each taking a
/// service time of mean <paramref name="MeanServiceSeconds"/> (exponential, or constant), and at most
/// <paramref name="QueueLimit"/> wait; more are refused, as Turbine's bounded queues refuse them.
/// </summary>
public sealed record ServiceModel(int Slots, double MeanServiceSeconds, bool Exponential = true, int QueueLimit = 1024)
{
    /// <summary>The most requests a second a replica serves.</summary>
    public double Capacity => Slots / MeanServiceSeconds;
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
