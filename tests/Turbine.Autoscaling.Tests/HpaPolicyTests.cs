namespace Turbine.Autoscaling.Tests;

/// <summary>The HPA v2 algorithm, decision by decision.</summary>
public sealed class HpaPolicyTests
{
    [Fact]
    public void Desired_replicas_follow_the_metric_over_the_target_rounded_up()
    {
        var hpa = new HpaPolicy(new HpaSettings(TargetPerPod: 8, MaxReplicas: 20, ScaleUpPods: 100));

        Assert.Equal(5, hpa.Desired(new FleetObservation(15, 2, 2, InFlight: 2 * 18, 0))); // 18 a pod: ceil(2 × 18 / 8)
    }

    [Fact]
    public void Within_the_tolerance_nothing_changes()
    {
        var hpa = new HpaPolicy(new HpaSettings(TargetPerPod: 10));

        Assert.Equal(4, hpa.Desired(new FleetObservation(15, 4, 4, InFlight: 4 * 10.9, 0)));
        Assert.Equal(4, hpa.Desired(new FleetObservation(30, 4, 4, InFlight: 4 * 9.1, 0)));
    }

    [Fact]
    public void Scale_down_waits_for_the_highest_recommendation_of_the_window()
    {
        var hpa = new HpaPolicy(new HpaSettings(TargetPerPod: 10, ScaleDownWindowSeconds: 300, ScaleDownPods: 10));
        Assert.Equal(8, hpa.Desired(new FleetObservation(0, 8, 8, InFlight: 80, 0)));

        var during = hpa.Desired(new FleetObservation(60, 8, 8, InFlight: 8, 0)); // wants 1, but 8 was recommended within 300 s
        var after = hpa.Desired(new FleetObservation(320, 8, 8, InFlight: 8, 0));

        Assert.Equal(8, during);
        Assert.Equal(1, after);
    }

    [Fact]
    public void Rate_policies_limit_each_step_and_max_replicas_caps_it()
    {
        var hpa = new HpaPolicy(new HpaSettings(TargetPerPod: 1, MaxReplicas: 50, ScaleUpPercent: 100, ScaleUpPods: 4, ScaleUpPeriodSeconds: 15));

        Assert.Equal(6, hpa.Desired(new FleetObservation(15, 2, 2, InFlight: 100, 0)));   // max(2 × 2, 2 + 4)
        Assert.Equal(12, hpa.Desired(new FleetObservation(30, 6, 6, InFlight: 600, 0)));  // doubling now beats +4
        var capped = new HpaPolicy(new HpaSettings(TargetPerPod: 1, MaxReplicas: 10, ScaleUpPods: 100));
        Assert.Equal(10, capped.Desired(new FleetObservation(15, 2, 2, InFlight: 1000, 0)));
    }

    [Fact]
    public void On_a_flash_crowd_the_hpa_adds_replicas_and_attains_more_than_a_fixed_fleet_of_its_starting_size()
    {
        var trace = ArrivalTrace.FlashCrowd(rate: 20, crowd: 150, at: 300, decaySeconds: 600, duration: 1800, seed: 4);
        var settings = new FleetSettings(new ServiceModel(4, 0.1, QueueLimit: 64), ColdStartSeconds: 20, ReadinessSeconds: 5, InitialReplicas: 2, SloSeconds: 0.3);

        var fixedFleet = FleetSimulator.Run(trace, settings, new FixedPolicy(2));
        var hpa = FleetSimulator.Run(trace, settings, new HpaPolicy(new HpaSettings(TargetPerPod: 4, MinReplicas: 2, MaxReplicas: 10)));

        Assert.True(hpa.MaxReplicas > 2);
        Assert.True(hpa.SloAttainment > fixedFleet.SloAttainment + 0.05, $"hpa {hpa.SloAttainment} vs fixed {fixedFleet.SloAttainment}");
        Assert.True(hpa.ReplicaSeconds > fixedFleet.ReplicaSeconds);
    }
}
