namespace Turbine.Autoscaling;

/// <summary>Turbine's predictive policy.</summary>
/// <param name="Service">A replica's service, whose capacity the forecast is divided by.</param>
/// <param name="TargetUtilization">The share of a replica's capacity to plan for.</param>
/// <param name="LeadSeconds">How far ahead to forecast: a new replica's cold start and readiness delay.</param>
/// <param name="MinReplicas">The fewest replicas.</param>
/// <param name="MaxReplicas">The most.</param>
/// <param name="ScaleDownWindowSeconds">Scale down only to the highest plan of this window.</param>
public sealed record PredictiveSettings(ServiceModel Service, double TargetUtilization = 0.7, double LeadSeconds = 40, int MinReplicas = 1, int MaxReplicas = 10, double ScaleDownWindowSeconds = 300);

/// <summary>
/// Plans replicas for the load a replica started now will meet: Holt's linear trend (level and slope, exponentially
/// smoothed) over the arrival rate of each period, extrapolated by the lead time (cold start and readiness), divided by
/// a replica's capacity at the target utilization; never below what the queues ask for now, and down only to the
/// highest plan of a window, so a dip does not shed replicas a rebound will need.
/// </summary>
public sealed class PredictivePolicy(PredictiveSettings settings) : IScalingPolicy
{
    private const double LevelSmoothing = 0.5;
    private const double SlopeSmoothing = 0.3;
    private readonly List<(double Time, int Replicas)> _plans = [];
    private double? _level;
    private double _slope;
    private double _lastTime;

    /// <inheritdoc />
    public string Name => $"predictive (lead {settings.LeadSeconds} s, {settings.TargetUtilization:P0} of capacity)";

    /// <inheritdoc />
    public int Desired(FleetObservation observation)
    {
        if (_level is not { } level)
        {
            _level = observation.ArrivalRate;
        }
        else
        {
            var elapsed = Math.Max(observation.Time - _lastTime, 1e-9);
            var next = (LevelSmoothing * observation.ArrivalRate) + ((1 - LevelSmoothing) * (level + (_slope * elapsed)));
            _slope = (SlopeSmoothing * ((next - level) / elapsed)) + ((1 - SlopeSmoothing) * _slope);
            _level = next;
        }

        _lastTime = observation.Time;
        var forecast = Math.Max(0, _level!.Value + (Math.Max(_slope, 0) * settings.LeadSeconds));
        var perReplica = settings.Service.Capacity * settings.TargetUtilization;
        var planned = (int)Math.Ceiling(Math.Max(forecast, observation.ArrivalRate) / perReplica);
        var queued = (int)Math.Ceiling(observation.InFlight / (settings.Service.Slots * settings.TargetUtilization));
        var plan = Math.Clamp(Math.Max(planned, queued), settings.MinReplicas, settings.MaxReplicas);
        _plans.Add((observation.Time, plan));
        _plans.RemoveAll(p => observation.Time - p.Time > settings.ScaleDownWindowSeconds);
        return plan < observation.Replicas ? Math.Min(observation.Replicas, _plans.Max(p => p.Replicas)) : plan;
    }
}
