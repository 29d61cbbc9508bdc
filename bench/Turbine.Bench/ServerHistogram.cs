using System.Globalization;
using System.Text.RegularExpressions;

namespace Turbine.Bench;

/// <summary>The server's request-duration histogram for one model, read from /metrics, and the bucket that holds its p99.</summary>
internal static partial class ServerHistogram
{
    /// <summary>Cumulative count per upper bound (seconds), ascending.</summary>
    public static async Task<SortedDictionary<double, double>> ReadAsync(HttpClient metrics, string model)
    {
        var text = await metrics.GetStringAsync("metrics");
        var buckets = new SortedDictionary<double, double>();
        foreach (Match match in Bucket().Matches(text))
        {
            if (match.Groups["model"].Value == model)
            {
                var bound = match.Groups["le"].Value == "+Inf" ? double.PositiveInfinity : double.Parse(match.Groups["le"].Value, CultureInfo.InvariantCulture);
                buckets[bound] = double.Parse(match.Groups["count"].Value, CultureInfo.InvariantCulture);
            }
        }

        return buckets;
    }

    /// <summary>"≤ X" in milliseconds: the upper bound of the bucket holding the 99th percentile of what happened between two reads.</summary>
    public static string P99Bound(SortedDictionary<double, double> before, SortedDictionary<double, double> after)
    {
        var total = after[double.PositiveInfinity] - before.GetValueOrDefault(double.PositiveInfinity);
        foreach (var (bound, count) in after)
        {
            if (count - before.GetValueOrDefault(bound) >= 0.99 * total)
            {
                return double.IsPositiveInfinity(bound) ? "> 10000" : $"≤ {(bound * 1000).ToString("G4", CultureInfo.InvariantCulture)}";
            }
        }

        return "-";
    }

    [GeneratedRegex("""^turbine_inference_request_duration_seconds_bucket\{model="(?<model>[^"]+)",version="[^"]+",le="(?<le>[^"]+)"\} (?<count>\S+)$""", RegexOptions.Multiline, matchTimeoutMilliseconds: 1000)]
    private static partial Regex Bucket();
}
