namespace Turbine.Autoscaling.Tests;

/// <summary>KEDA, Knative's KPA and the predictive policy on traces that show what each is for.</summary>
public sealed class PolicyTests
{
    private static readonly ServiceModel Service = new(4, 0.1, QueueLimit: 64);

    [Fact]
    public void Keda_scales_to_zero_after_its_cooldown_and_back_when_traffic_returns()
    {
        var quietMiddle = ArrivalTrace.FromRate(t => t is < 300 or > 1500 ? 20 : 0, 20, 1800, seed: 2);
        var settings = new FleetSettings(Service, ColdStartSeconds: 10, ReadinessSeconds: 5, InitialReplicas: 1, SloSeconds: 0.3);

        var keda = FleetSimulator.Run(quietMiddle, settings, new KedaPolicy(new KedaSettings(Threshold: 4, CooldownSeconds: 300)));
        var always = FleetSimulator.Run(quietMiddle, settings, new FixedPolicy(1));

        Assert.Contains(keda.Timeline, point => point.Time is > 600 and < 1500 && point.Replicas == 0);
        Assert.Contains(keda.Timeline, point => point.Time > 1520 && point.Replicas >= 1);
        Assert.InRange(keda.Timeline.Count(point => point.Replicas == 0) * settings.SyncPeriodSeconds, 800, 915); // from a cooldown after the last request to the return
        Assert.True(keda.ReplicaSeconds < always.ReplicaSeconds, $"{keda.ReplicaSeconds} vs {always.ReplicaSeconds}");
        Assert.True(keda.Refused > 0); // the price of scaling from zero without a buffer in front: requests until a replica is ready
    }

    [Fact]
    public void Kpa_panics_on_a_flash_crowd_and_scales_faster_than_its_stable_window_would()
    {
        var crowd = ArrivalTrace.FlashCrowd(rate: 10, crowd: 200, at: 200, decaySeconds: 400, duration: 900, seed: 3);
        var settings = new FleetSettings(Service, ColdStartSeconds: 5, ReadinessSeconds: 2, SyncPeriodSeconds: 2, InitialReplicas: 1, SloSeconds: 0.3);

        var kpa = FleetSimulator.Run(crowd, settings, new KpaPolicy(new KpaSettings(TargetConcurrency: 4, MinReplicas: 1, MaxReplicas: 20)));

        var firstBig = kpa.Timeline.First(point => point.Replicas >= 6);
        Assert.InRange(firstBig.Time, 200, 230); // within a few ticks of the crowd, not after a 60 s stable window
    }

    [Fact]
    public void The_predictive_policy_adds_replicas_ahead_of_a_rising_load_that_the_hpa_follows()
    {
        var morning = ArrivalTrace.FromRate(t => 10 + (t / 1800 * 140), 150, 1800, seed: 5); // 10 to 150 requests a second over 30 minutes
        var settings = new FleetSettings(Service, ColdStartSeconds: 60, ReadinessSeconds: 20, InitialReplicas: 1, SloSeconds: 0.3);

        var hpa = FleetSimulator.Run(morning, settings, new HpaPolicy(new HpaSettings(TargetPerPod: 3, MaxReplicas: 20)));
        var predictive = FleetSimulator.Run(morning, settings, new PredictivePolicy(new PredictiveSettings(Service, LeadSeconds: 80, MaxReplicas: 20)));

        Assert.True(predictive.SloAttainment > hpa.SloAttainment, $"predictive {predictive.SloAttainment} vs hpa {hpa.SloAttainment}");
    }
}
