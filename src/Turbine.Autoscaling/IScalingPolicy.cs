namespace Turbine.Autoscaling;

/// <summary>An autoscaling policy: asked every sync period how many replicas the fleet should have.</summary>
public interface IScalingPolicy
{
    /// <summary>The policy's name in reports.</summary>
    string Name { get; }

    /// <summary>The replicas wanted now (the fleet clamps nothing: the policy applies its own bounds).</summary>
    int Desired(FleetObservation observation);
}

/// <summary>What the autoscaler sees at a sync: the fleet and the load over the last period.</summary>
/// <param name="Time">Seconds since the trace started.</param>
/// <param name="Replicas">Replicas that exist and are not being removed (starting ones included), as a Deployment's spec counts them.</param>
/// <param name="ReadyReplicas">Of those, the ones taking traffic.</param>
/// <param name="InFlight">Requests executing or queued on ready replicas now (the signal Turbine exports per pod).</param>
/// <param name="ArrivalRate">Requests a second that arrived over the last period.</param>
public readonly record struct FleetObservation(double Time, int Replicas, int ReadyReplicas, double InFlight, double ArrivalRate);

/// <summary>A fleet of constant size: the baseline, and the M/M/c check.</summary>
public sealed class FixedPolicy(int replicas) : IScalingPolicy
{
    /// <inheritdoc />
    public string Name => $"fixed {replicas}";

    /// <inheritdoc />
    public int Desired(FleetObservation observation) => replicas;
}
