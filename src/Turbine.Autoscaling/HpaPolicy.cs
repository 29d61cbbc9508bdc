namespace Turbine.Autoscaling;

/// <summary>The settings of a Kubernetes HPA v2 on a per-pod average metric (in-flight requests).</summary>
/// <param name="TargetPerPod">The average in-flight requests per ready pod to hold.</param>
/// <param name="MinReplicas">The fewest replicas.</param>
/// <param name="MaxReplicas">The most replicas (the cost control).</param>
/// <param name="Tolerance">No change while the metric is within this share of the target (Kubernetes' default 0.1).</param>
/// <param name="ScaleUpWindowSeconds">Scale-up stabilization: the lowest recommendation over this window wins.</param>
/// <param name="ScaleDownWindowSeconds">Scale-down stabilization: the highest recommendation over this window wins (default 300).</param>
/// <param name="ScaleUpPercent">Scale-up rate policy: at most this percentage added per <paramref name="ScaleUpPeriodSeconds"/>.</param>
/// <param name="ScaleUpPods">Scale-up rate policy: or at most this many pods (the larger of the two applies).</param>
/// <param name="ScaleUpPeriodSeconds">The scale-up policies' period.</param>
/// <param name="ScaleDownPods">Scale-down rate policy: at most this many pods removed per <paramref name="ScaleDownPeriodSeconds"/>.</param>
/// <param name="ScaleDownPeriodSeconds">The scale-down policy's period.</param>
public sealed record HpaSettings(
    double TargetPerPod, int MinReplicas = 1, int MaxReplicas = 10, double Tolerance = 0.1, double ScaleUpWindowSeconds = 0, double ScaleDownWindowSeconds = 300,
    double ScaleUpPercent = 100, int ScaleUpPods = 4, double ScaleUpPeriodSeconds = 15, int ScaleDownPods = 1, double ScaleDownPeriodSeconds = 60);

/// <summary>
/// Kubernetes' HPA v2 algorithm (the horizontal pod autoscaler's replica calculator and its behavior field):
/// desired = ceil(replicas × metric / target) over ready pods, no change within the tolerance, the scale-up window's
/// lowest and the scale-down window's highest recommendation, then the rate policies (Max of the scale-up ones, the
/// scale-down one) against the replicas a period ago, clamped to min and max.
/// </summary>
public sealed class HpaPolicy(HpaSettings settings) : IScalingPolicy
{
    private readonly List<(double Time, int Replicas)> _recommendations = [];
    private readonly List<(double Time, int Replicas)> _decisions = [];

    /// <inheritdoc />
    public string Name => $"hpa (target {settings.TargetPerPod} in flight a pod)";

    /// <inheritdoc />
    public int Desired(FleetObservation observation)
    {
        var current = Math.Max(observation.Replicas, 0);
        var recommendation = Recommend(observation, current);
        _recommendations.Add((observation.Time, recommendation));
        _recommendations.RemoveAll(r => observation.Time - r.Time > Math.Max(settings.ScaleDownWindowSeconds, settings.ScaleUpWindowSeconds));

        var stabilized = recommendation;
        if (recommendation < current)
        {
            stabilized = Math.Min(current, _recommendations.Where(r => observation.Time - r.Time <= settings.ScaleDownWindowSeconds).Max(r => r.Replicas));
        }
        else if (recommendation > current)
        {
            stabilized = Math.Max(current, _recommendations.Where(r => observation.Time - r.Time <= settings.ScaleUpWindowSeconds).Min(r => r.Replicas));
        }

        var desired = Math.Clamp(RateLimited(stabilized, current, observation.Time), settings.MinReplicas, settings.MaxReplicas);
        _decisions.Add((observation.Time, desired));
        _decisions.RemoveAll(d => observation.Time - d.Time > Math.Max(settings.ScaleUpPeriodSeconds, settings.ScaleDownPeriodSeconds));
        return desired;
    }

    private int Recommend(FleetObservation observation, int current)
    {
        if (observation.ReadyReplicas == 0)
        {
            return Math.Max(current, settings.MinReplicas); // no metric from unready pods: hold
        }

        var ratio = observation.InFlight / observation.ReadyReplicas / settings.TargetPerPod;
        return Math.Abs(ratio - 1) <= settings.Tolerance ? current : (int)Math.Ceiling(observation.ReadyReplicas * ratio);
    }

    /// <summary>The rate policies, measured from the fewest (scaling up) or most (scaling down) replicas decided within the period.</summary>
    private int RateLimited(int desired, int current, double now)
    {
        if (desired > current)
        {
            var start = _decisions.Where(d => now - d.Time < settings.ScaleUpPeriodSeconds).Select(d => d.Replicas).DefaultIfEmpty(current).Min();
            start = Math.Min(start, current);
            var limit = Math.Max((int)Math.Ceiling(start * (1 + (settings.ScaleUpPercent / 100))), start + settings.ScaleUpPods);
            return Math.Min(desired, limit);
        }

        if (desired < current)
        {
            var start = _decisions.Where(d => now - d.Time < settings.ScaleDownPeriodSeconds).Select(d => d.Replicas).DefaultIfEmpty(current).Max();
            start = Math.Max(start, current);
            return Math.Max(desired, start - settings.ScaleDownPods);
        }

        return desired;
    }
}
