namespace Turbine.Autoscaling;

/// <summary>Knative's autoscaler (KPA) settings.</summary>
/// <param name="TargetConcurrency">Requests in flight a replica is meant to hold (the revision's target).</param>
/// <param name="TargetUtilization">The share of the target actually aimed at (Knative's default 0.7).</param>
/// <param name="StableWindowSeconds">The window averaged in stable mode (default 60).</param>
/// <param name="PanicWindowPercent">The panic window as a share of the stable one (default 10%).</param>
/// <param name="PanicThreshold">Panic when the panic window wants this multiple of the current replicas (default 2).</param>
/// <param name="MaxScaleDownRate">At most divide the replicas by this per decision (default 2).</param>
/// <param name="MinReplicas">The fewest replicas (0: scale to zero after a stable window without requests).</param>
/// <param name="MaxReplicas">The most.</param>
public sealed record KpaSettings(
    double TargetConcurrency, double TargetUtilization = 0.7, double StableWindowSeconds = 60, double PanicWindowPercent = 10, double PanicThreshold = 2,
    double MaxScaleDownRate = 2, int MinReplicas = 0, int MaxReplicas = 10);

/// <summary>
/// Knative's KPA: desired = ceil(average concurrency over the window / (target × utilization)). Stable mode averages
/// the stable window; when the short panic window wants at least the panic threshold times the current replicas, it
/// panics: it scales on the panic window and never down until a stable window has passed without panic. Scale-down
/// is bounded by the maximum scale-down rate; a revision with traffic never stays at zero (the activator wakes it).
/// Meant to be run with a short sync period (Knative ticks every 2 s).
/// </summary>
public sealed class KpaPolicy(KpaSettings settings) : IScalingPolicy
{
    private readonly List<(double Time, double Concurrency)> _samples = [];
    private double _panicUntil = double.NegativeInfinity;

    /// <inheritdoc />
    public string Name => $"kpa (target {settings.TargetConcurrency} × {settings.TargetUtilization})";

    /// <inheritdoc />
    public int Desired(FleetObservation observation)
    {
        _samples.Add((observation.Time, observation.InFlight));
        _samples.RemoveAll(s => observation.Time - s.Time > settings.StableWindowSeconds);
        var panicWindow = settings.StableWindowSeconds * settings.PanicWindowPercent / 100;
        var perReplica = settings.TargetConcurrency * settings.TargetUtilization;
        var stable = (int)Math.Ceiling(Average(observation.Time, settings.StableWindowSeconds) / perReplica);
        var panic = (int)Math.Ceiling(Average(observation.Time, panicWindow) / perReplica);
        var current = Math.Max(observation.ReadyReplicas, 1);
        if (panic >= settings.PanicThreshold * current)
        {
            _panicUntil = observation.Time + settings.StableWindowSeconds;
        }

        var desired = observation.Time < _panicUntil ? Math.Max(panic, observation.Replicas) : stable;
        if (observation.ArrivalRate > 0)
        {
            desired = Math.Max(desired, 1); // Knative's activator holds requests for a revision at zero and wakes it
        }

        if (desired < observation.Replicas)
        {
            desired = Math.Max(desired, (int)Math.Floor(observation.Replicas / settings.MaxScaleDownRate));
        }

        return Math.Clamp(desired, settings.MinReplicas, settings.MaxReplicas);
    }

    private double Average(double now, double window)
    {
        double sum = 0;
        var count = 0;
        foreach (var (time, concurrency) in _samples)
        {
            if (now - time <= window)
            {
                sum += concurrency;
                count++;
            }
        }

        return count == 0 ? 0 : sum / count;
    }
}
