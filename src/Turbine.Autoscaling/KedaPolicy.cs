namespace Turbine.Autoscaling;

/// <summary>A KEDA ScaledObject on Turbine's in-flight requests.</summary>
/// <param name="Threshold">The in-flight requests per replica KEDA's HPA holds (the trigger's threshold).</param>
/// <param name="ActivationThreshold">Above this arrival rate (requests a second reaching the scaler, as the HTTP add-on counts them) the target is active: scaled from zero to one.</param>
/// <param name="CooldownSeconds">How long the target stays at one replica after its last activity before going to zero.</param>
/// <param name="MinReplicas">The fewest replicas (0: scale to zero).</param>
/// <param name="MaxReplicas">The most.</param>
public sealed record KedaSettings(double Threshold, double ActivationThreshold = 0, double CooldownSeconds = 300, int MinReplicas = 0, int MaxReplicas = 10);

/// <summary>
/// KEDA's two halves: its own activation (0 ↔ 1: active while the trigger is above its activation threshold, back to
/// zero a cooldown period after the last activity) and, from one replica up, the HPA it creates with the trigger's
/// threshold as the per-pod target (with Kubernetes' default behaviour).
/// </summary>
public sealed class KedaPolicy : IScalingPolicy
{
    private readonly KedaSettings _settings;
    private readonly HpaPolicy _hpa;
    private double _lastActive = double.NegativeInfinity;

    /// <summary>Creates the policy.</summary>
    public KedaPolicy(KedaSettings settings)
    {
        _settings = settings ?? throw new ArgumentNullException(nameof(settings));
        _hpa = new HpaPolicy(new HpaSettings(settings.Threshold, MinReplicas: Math.Max(1, settings.MinReplicas), MaxReplicas: settings.MaxReplicas));
    }

    /// <inheritdoc />
    public string Name => $"keda (threshold {_settings.Threshold}, cooldown {_settings.CooldownSeconds} s)";

    /// <inheritdoc />
    public int Desired(FleetObservation observation)
    {
        if (observation.ArrivalRate > _settings.ActivationThreshold || observation.InFlight > 0)
        {
            _lastActive = observation.Time;
        }

        if (observation.Time - _lastActive >= _settings.CooldownSeconds)
        {
            return _settings.MinReplicas;
        }

        // From zero, KEDA activates one replica; from there its HPA decides.
        return observation.Replicas == 0 ? 1 : _hpa.Desired(observation);
    }
}
