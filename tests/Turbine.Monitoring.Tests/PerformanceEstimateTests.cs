using Microsoft.Extensions.Time.Testing;
using Turbine.Monitoring.Quality;

namespace Turbine.Monitoring.Tests;

/// <summary>The label-free accuracy estimate against the true accuracy of a synthetic classifier.</summary>
public sealed class PerformanceEstimateTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UnixEpoch);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(-2)]
    public void A_calibrated_classifier_is_estimated_from_its_confidence(double shift)
    {
        var (estimate, truth) = Run(Synthetic.Profile(1000), shift, overconfident: false);

        Assert.False(estimate.Calibrated);
        Assert.Equal(truth, estimate.EstimatedAccuracy, 0.03);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1.5)]
    public void An_overconfident_classifier_is_corrected_by_the_reference_labels(double shift)
    {
        var (raw, truth) = Run(Synthetic.Profile(3000, overconfident: true), shift, overconfident: true);
        var (calibrated, _) = Run(Synthetic.Profile(3000, overconfident: true, labelled: true), shift, overconfident: true);

        Assert.True(calibrated.Calibrated);
        Assert.True(raw.EstimatedAccuracy - truth > 0.04, "the raw confidence overstates the accuracy");
        Assert.Equal(truth, calibrated.EstimatedAccuracy, 0.03);
    }

    [Fact]
    public void Labels_fed_back_give_the_measured_accuracy_beside_the_estimate()
    {
        var monitor = new VersionMonitor("clf", "1", Synthetic.Layout, new MonitoringSettings { Probabilities = "probs" }, null, QualityRules.None, _time);
        var random = new Random(4);
        int correct = 0, total = 0;
        for (var k = 0; k < 400; k++)
        {
            var (inputs, outputs, labels) = Synthetic.Batch(random, 1);
            var predicted = outputs[0].ToArray<float>() is var p && p[1] > p[0] ? "1" : "0";
            using (var observation = new ObservedInference(_time.GetUtcNow(), "clf", "1", null, null, $"id-{k}", inputs, outputs, TimeSpan.Zero, null))
            {
                monitor.Observe(observation);
            }

            Assert.True(monitor.RecordLabel($"id-{k}", labels[0]));
            correct += predicted == labels[0] ? 1 : 0;
            total++;
        }

        var performance = monitor.Report().Performance!;

        Assert.False(monitor.RecordLabel("never-seen", "1"));
        Assert.Equal(400, performance.Labelled);
        Assert.Equal((double)correct / total, performance.MeasuredAccuracy!.Value, 12);
    }

    private (Drift.PerformanceEstimate Estimate, double Truth) Run(Profiles.ReferenceProfile profile, double shift, bool overconfident)
    {
        var monitor = new VersionMonitor("clf", "1", Synthetic.Layout, new MonitoringSettings { Probabilities = "probs", WindowRows = 4000 }, profile, QualityRules.None, _time);
        var random = new Random(9);
        int correct = 0, total = 0;
        for (var k = 0; k < 100; k++)
        {
            var (inputs, outputs, labels) = Synthetic.Batch(random, 40, shift, overconfident);
            var p = outputs[0].ToArray<float>();
            for (var r = 0; r < labels.Length; r++)
            {
                correct += (p[(2 * r) + 1] > p[2 * r] ? "1" : "0") == labels[r] ? 1 : 0;
                total++;
            }

            using var observation = new ObservedInference(_time.GetUtcNow(), "clf", "1", null, null, null, inputs, outputs, TimeSpan.Zero, null);
            monitor.Observe(observation);
        }

        return (monitor.Report().Performance!, (double)correct / total);
    }
}
