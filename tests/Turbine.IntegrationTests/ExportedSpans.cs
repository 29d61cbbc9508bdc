using System.Diagnostics;

namespace Turbine.IntegrationTests;

/// <summary>Waits for a span to reach OpenTelemetry's in-memory exporter (spans end after the response is written).</summary>
internal static class ExportedSpans
{
    public static async Task<Activity> FindAsync(List<Activity> spans, string name, ActivityTraceId trace)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            lock (spans)
            {
                if (spans.Find(span => span.TraceId == trace && span.DisplayName == name) is { } found)
                {
                    return found;
                }
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"no span '{name}' was exported");
            await Task.Delay(20);
        }
    }
}
