using System.Text.Json;
using Turbine.Traffic.Canary;

namespace Turbine.Traffic.Tests;

/// <summary>Figures that replicas count apart add up to what one server would have counted.</summary>
public sealed class SharedFiguresTests
{
    [Fact]
    public void Two_replicas_feedback_sums_add_up_to_the_sums_of_all_the_values()
    {
        double[] first = [1.5, 2, 8, 3.25];
        double[] second = [10, -4, 0.5];
        var (a, b, all) = (new ArmOutcomes(), new ArmOutcomes(), new ArmOutcomes());
        foreach (var value in first)
        {
            a.AddValue(value);
            all.AddValue(value);
        }

        foreach (var value in second)
        {
            b.AddValue(value);
            all.AddValue(value);
        }

        a.AddConversion(true);
        b.AddConversion(false);
        var merged = a.State().Plus(b.State());
        var expected = all.Snapshot();

        Assert.Equal((2L, 1L, 7L), (merged.Trials, merged.Successes, merged.Count));
        Assert.Equal(expected.Mean, merged.Mean, 12);
        Assert.Equal(expected.Variance, merged.Variance, 12);
        Assert.Equal(a.State(), a.State().Plus(new ArmOutcomes().State()));
    }

    [Fact]
    public void A_step_tally_survives_its_json_and_adds_histograms_bucket_by_bucket()
    {
        var latency = new long[LatencyHistogram.Buckets];
        latency[10] = 3;
        latency[100] = 1;
        var tally = new StepTally(4, 1, 40, 2, latency, 9, 1);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            tally.Write(writer);
            writer.WriteEndObject();
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        Assert.True(StepTally.TryRead(document.RootElement, out var read));
        var sum = read.Plus(tally);

        Assert.Equal((8L, 2L, 80L, 4L, 18L, 2L), (sum.CanaryRequests, sum.CanaryErrors, sum.BaselineRequests, sum.BaselineErrors, sum.Compared, sum.Disagreed));
        Assert.Equal(6, sum.Latency[10]);
        Assert.Equal(2, sum.Latency[100]);
        Assert.Equal(LatencyHistogram.Quantile(sum.Latency, 0.99), LatencyHistogram.Quantile(latency, 0.99));
    }

    [Fact]
    public void A_tally_with_a_bucket_out_of_range_is_refused()
    {
        using var document = JsonDocument.Parse("""{"canary_requests":1,"canary_errors":0,"baseline_requests":0,"baseline_errors":0,"compared":0,"disagreed":0,"latency":[[99999,1]]}""");
        Assert.False(StepTally.TryRead(document.RootElement, out _));
    }
}
