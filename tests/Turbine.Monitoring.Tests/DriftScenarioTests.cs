using Microsoft.Extensions.Time.Testing;
using Turbine.Monitoring.Drift;
using Turbine.Monitoring.Quality;

namespace Turbine.Monitoring.Tests;

/// <summary>The drift alarm over whole windows of traffic: raised by a shifted input, and rarely by an unshifted one.</summary>
public sealed class DriftScenarioTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UnixEpoch);

    [Fact]
    public void A_shifted_input_raises_feature_dataset_and_prediction_drift()
    {
        var monitor = Monitor(Synthetic.Profile(800), windowRows: 500);
        var random = new Random(7);

        Feed(monitor, random, rows: 500, shift: 1.5);
        var report = monitor.Report();

        Assert.True(report.Judged);
        var x0 = report.Features.Single(f => f.Name == "x[0]");
        Assert.Equal(DriftMethod.KolmogorovSmirnov, x0.Method); // a reference of up to 1000 rows: Evidently's test
        Assert.True(x0.Drifted);
        Assert.False(report.Features.Single(f => f.Name == "x[1]").Drifted);
        Assert.True(report.Features.Single(f => f.Name == "probs:class").Drifted);
        Assert.True(report.PredictionDrift);
        Assert.Equal(DriftMethod.ProportionZ, report.Features.Single(f => f.Name == "colour").Method);
    }

    [Fact]
    public void Unshifted_windows_raise_false_alarms_within_the_test_level()
    {
        var monitor = Monitor(Synthetic.Profile(1000, seed: 3), windowRows: 200);
        var random = new Random(11);
        int windows = 0, featureAlarms = 0, features = 0, datasetAlarms = 0;

        for (var w = 0; w < 200; w++)
        {
            Feed(monitor, random, rows: 200, shift: 0); // a whole new window each time
            _time.Advance(TimeSpan.FromSeconds(2));
            var report = monitor.Report();
            windows++;
            var inputs = report.Features.Where(f => !f.IsOutput).ToList();
            features += inputs.Count;
            featureAlarms += inputs.Count(f => f.Drifted);
            datasetAlarms += report.DatasetDrift ? 1 : 0;
        }

        Assert.Equal(200, windows);
        Assert.InRange((double)featureAlarms / features, 0, 0.075); // the tests' level is 5%, with room for 800 draws
        Assert.InRange((double)datasetAlarms / windows, 0, 0.02); // half of four features at once is rarer still
    }

    [Fact]
    public void A_large_reference_is_judged_by_distances()
    {
        var monitor = Monitor(Synthetic.Profile(3000), windowRows: 1000);

        Feed(monitor, new Random(5), rows: 1000, shift: 0.5);
        var report = monitor.Report();

        var x0 = report.Features.Single(f => f.Name == "x[0]");
        Assert.Equal(DriftMethod.Wasserstein, x0.Method);
        Assert.InRange(x0.Score, 0.35, 0.65); // a shift of half a standard deviation
        Assert.True(x0.Drifted);
        Assert.Equal(DriftMethod.JensenShannon, report.Features.Single(f => f.Name == "colour").Method);
        Assert.True(x0.PopulationStability > 0.1);
    }

    [Fact]
    public void The_time_window_forgets_old_rows()
    {
        var monitor = Monitor(Synthetic.Profile(800), windowRows: 1000, settings: s => s with { WindowTime = TimeSpan.FromMinutes(1), MinRows = 100 });
        Feed(monitor, new Random(1), rows: 300, shift: 3);
        _time.Advance(TimeSpan.FromMinutes(2));
        Feed(monitor, new Random(2), rows: 200, shift: 0);

        var report = monitor.Report();

        Assert.Equal(200, report.WindowRows);
        Assert.False(report.Features.Single(f => f.Name == "x[0]").Drifted);
    }

    [Fact]
    public void A_configured_method_and_threshold_replace_the_default()
    {
        var options = new Dictionary<string, FeatureDriftOptions> { ["x[0]"] = new(DriftMethod.PopulationStability, 0.5) };
        var monitor = Monitor(Synthetic.Profile(800), windowRows: 500, settings: s => s with { Features = options });
        Feed(monitor, new Random(3), rows: 500, shift: 0.3);

        var x0 = monitor.Report().Features.Single(f => f.Name == "x[0]");

        Assert.Equal(DriftMethod.PopulationStability, x0.Method);
        Assert.Equal(0.5, x0.Threshold);
        Assert.Equal(x0.PopulationStability, x0.Score);
    }

    [Fact]
    public void Too_few_rows_are_not_judged()
    {
        var monitor = Monitor(Synthetic.Profile(800), windowRows: 500);
        Feed(monitor, new Random(3), rows: 50, shift: 3);

        var report = monitor.Report();

        Assert.False(report.Judged);
        Assert.Empty(report.Features);
    }

    private VersionMonitor Monitor(Profiles.ReferenceProfile profile, int windowRows, Func<MonitoringSettings, MonitoringSettings>? settings = null)
    {
        var chosen = new MonitoringSettings { Probabilities = "probs", WindowRows = windowRows, MinRows = Math.Min(100, windowRows) };
        return new VersionMonitor("clf", "1", Synthetic.Layout, settings?.Invoke(chosen) ?? chosen, profile, QualityRules.None, _time);
    }

    private void Feed(VersionMonitor monitor, Random random, int rows, double shift)
    {
        for (var done = 0; done < rows; done += 20)
        {
            var (inputs, outputs, _) = Synthetic.Batch(random, 20, shift);
            using var observation = new ObservedInference(_time.GetUtcNow(), "clf", "1", null, null, null, inputs, outputs, TimeSpan.Zero, null);
            monitor.Observe(observation);
        }
    }
}
