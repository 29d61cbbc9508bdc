using System.Text.Json;

namespace Turbine.Traffic.Canary;

/// <summary>
/// The counts of one step as one replica saw them: canary and baseline requests and errors, the canary's latency
/// histogram, and how many shadow comparisons the step saw and how many disagreed. Tallies of several replicas add up.
/// </summary>
internal sealed record StepTally(long CanaryRequests, long CanaryErrors, long BaselineRequests, long BaselineErrors, long[] Latency, long Compared, long Disagreed)
{
    public StepTally Plus(StepTally other)
    {
        var latency = (long[])Latency.Clone();
        for (var i = 0; i < latency.Length && i < other.Latency.Length; i++)
        {
            latency[i] += other.Latency[i];
        }

        return new StepTally(
            CanaryRequests + other.CanaryRequests, CanaryErrors + other.CanaryErrors, BaselineRequests + other.BaselineRequests,
            BaselineErrors + other.BaselineErrors, latency, Compared + other.Compared, Disagreed + other.Disagreed);
    }

    public CanaryFigures Figures(double stepSeconds) =>
        new(CanaryRequests, CanaryErrors, LatencyHistogram.Quantile(Latency, 0.99).TotalMilliseconds, Compared, Disagreed, stepSeconds, BaselineRequests, BaselineErrors);

    /// <summary>Writes the tally's properties into the object being written; the histogram as [bucket, count] pairs of its non-empty buckets.</summary>
    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteNumber("canary_requests", CanaryRequests);
        writer.WriteNumber("canary_errors", CanaryErrors);
        writer.WriteNumber("baseline_requests", BaselineRequests);
        writer.WriteNumber("baseline_errors", BaselineErrors);
        writer.WriteNumber("compared", Compared);
        writer.WriteNumber("disagreed", Disagreed);
        writer.WriteStartArray("latency");
        for (var i = 0; i < Latency.Length; i++)
        {
            if (Latency[i] != 0)
            {
                writer.WriteStartArray();
                writer.WriteNumberValue(i);
                writer.WriteNumberValue(Latency[i]);
                writer.WriteEndArray();
            }
        }

        writer.WriteEndArray();
    }

    public static bool TryRead(JsonElement element, out StepTally tally)
    {
        tally = null!;
        try
        {
            var latency = new long[LatencyHistogram.Buckets];
            foreach (var pair in element.GetProperty("latency").EnumerateArray())
            {
                var bucket = pair[0].GetInt32();
                if (bucket < 0 || bucket >= latency.Length)
                {
                    return false;
                }

                latency[bucket] = pair[1].GetInt64();
            }

            tally = new StepTally(
                element.GetProperty("canary_requests").GetInt64(), element.GetProperty("canary_errors").GetInt64(),
                element.GetProperty("baseline_requests").GetInt64(), element.GetProperty("baseline_errors").GetInt64(),
                latency, element.GetProperty("compared").GetInt64(), element.GetProperty("disagreed").GetInt64());
            return true;
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException or IndexOutOfRangeException)
        {
            return false;
        }
    }
}
