using System.Text.Json;

namespace Turbine.Autoscaling;

/// <summary>
/// A replica's service model from `turbine bench --json` output: the lightest closed-loop step's p50 is the service
/// time of one request, the highest throughput the replica's capacity, and their product (Little's law) the requests
/// it serves at once; that step's p99 gives the times their spread (<see cref="ServiceModel.Measured"/>).
/// </summary>
public static class BenchCapacity
{
    /// <summary>Reads the model; problems go to <paramref name="errors"/> and the result is then null.</summary>
    public static ServiceModel? Read(string json, List<string> errors, int queueLimit = 1024)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var steps = new List<(double Load, double Throughput, double P50Ms, double P99Ms)>();
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
            foreach (var step in document.RootElement.EnumerateArray())
            {
                if (step.TryGetProperty("throughput_rps", out var throughput) && throughput.ValueKind == JsonValueKind.Number
                    && step.TryGetProperty("p50_ms", out var p50) && p50.ValueKind == JsonValueKind.Number
                    && step.TryGetProperty("load", out var load) && load.ValueKind == JsonValueKind.Number)
                {
                    var p99 = step.TryGetProperty("p99_ms", out var tail) && tail.ValueKind == JsonValueKind.Number ? tail.GetDouble() : 0;
                    steps.Add((load.GetDouble(), throughput.GetDouble(), p50.GetDouble(), p99));
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            errors.Add($"the bench output is not turbine bench's JSON: {e.Message}");
            return null;
        }

        var usable = steps.Where(s => s.Throughput > 0 && s.P50Ms > 0).ToList();
        if (usable.Count == 0)
        {
            errors.Add("the bench output has no step with throughput_rps and p50_ms above zero");
            return null;
        }

        var lightest = usable.MinBy(s => s.Load);
        var service = lightest.P50Ms / 1000;
        var capacity = usable.Max(s => s.Throughput);
        return ServiceModel.Measured(Math.Max(1, (int)Math.Round(capacity * service)), service, lightest.P99Ms / 1000, queueLimit);
    }
}
