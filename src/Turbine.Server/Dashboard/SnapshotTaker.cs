using System.Diagnostics;
using Turbine.Core.Execution;
using Microsoft.Extensions.Options;
using Turbine.Core.Lifecycle;
using Turbine.Server.Hosting;
using Turbine.Traffic;

namespace Turbine.Server.Dashboard;

/// <summary>
/// Takes the dashboard's snapshots from the same statistics the metrics endpoint renders: counters become rates over
/// the interval since the previous snapshot, and each version's latency histogram becomes the interval's p50 and p99
/// (interpolated inside the bucket, as Prometheus' <c>histogram_quantile</c> does). Called by one timer at a time.
/// </summary>
internal sealed class SnapshotTaker(
    InferenceService inference, ModelManager models, ServerReadiness readiness, Turbine.Monitoring.MonitoringHub monitoring, IOptions<TurbineServerOptions> options, TimeProvider time)
{
    private static readonly long[] Bounds = DurationCounter.BucketBounds.ToArray();
    private static readonly DateTimeOffset ProcessStart = Process.GetCurrentProcess().StartTime.ToUniversalTime();

    private readonly List<string> _parts = Parts(options.Value);
    private readonly Dictionary<string, Totals> _previous = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _previousServed = new(StringComparer.Ordinal);
    private long _previousTimestamp;
    private TimeSpan _previousCpu;

    public DashboardSnapshot Take()
    {
        var now = time.GetTimestamp();
        var seconds = _previousTimestamp == 0 ? 0 : time.GetElapsedTime(_previousTimestamp, now).TotalSeconds;
        _previousTimestamp = now;
        inference.Executor.Statistics(null, null, out var versions);

        var all = new long[Bounds.Length + 1];
        double requests = 0, errors = 0;
        var figures = new List<ModelFigures>(versions.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var version in versions)
        {
            var key = version.Config.Name + "/" + version.Version;
            seen.Add(key);
            var current = Totals.Of(version.Statistics);
            var delta = _previous.TryGetValue(key, out var before) ? current.Minus(before) : Totals.Empty;
            _previous[key] = current;
            for (var i = 0; i < all.Length; i++)
            {
                all[i] += delta.Buckets[i];
            }

            requests += delta.Successes + delta.Failures;
            errors += delta.Failures;
            figures.Add(new ModelFigures(
                version.Config.Name, version.Version, Rate(delta.Successes + delta.Failures, seconds), Rate(delta.Failures, seconds),
                Quantile(delta.Buckets, 0.50), Quantile(delta.Buckets, 0.99), version.QueuedRequests, version.ExecutingRequests, current.Successes, current.Failures));
        }

        foreach (var gone in _previous.Keys.Where(key => !seen.Contains(key)).ToList())
        {
            _previous.Remove(gone); // unloaded: a version loaded again later starts from nothing
        }

        // Read from memory only: this runs every second, and a repository of hundreds of folders is not re-read for it.
        var (ready, notServing) = models.Census();
        var cpu = Environment.CpuUsage.TotalTime;
        var cpuCores = seconds > 0 ? (cpu - _previousCpu).TotalSeconds / seconds : 0;
        _previousCpu = cpu;
        var server = new ServerFigures(
            readiness.IsReady, (time.GetUtcNow() - ProcessStart).TotalSeconds, Math.Max(0, cpuCores), Environment.ProcessorCount,
            Environment.WorkingSet, GC.GetTotalMemory(forceFullCollection: false), Rate((long)requests, seconds), Rate((long)errors, seconds),
            Quantile(all, 0.50), Quantile(all, 0.99), ready, notServing, _parts);
        return new DashboardSnapshot(time.GetUtcNow().ToUnixTimeMilliseconds(), server, figures, Routes(seconds), Quality());
    }

    private List<RouteFigures> Routes(double seconds)
    {
        var result = new List<RouteFigures>();
        foreach (var definition in inference.Routes.All)
        {
            if (!inference.Routes.TryGet(definition.Name, out var route))
            {
                continue;
            }

            var arms = new List<ArmFigures>(definition.Variants.Count);
            var total = 0.0;
            for (var i = 0; i < definition.Variants.Count; i++)
            {
                total += route.Weight(i);
            }

            for (var i = 0; i < definition.Variants.Count; i++)
            {
                var key = definition.Name + "/" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                var served = route.Served(i);
                var delta = _previousServed.TryGetValue(key, out var before) && before <= served ? served - before : 0;
                _previousServed[key] = served;
                arms.Add(new ArmFigures(definition.Variants[i].Name, total > 0 ? route.Weight(i) / total : 0, Rate(delta, seconds), Circuit(route.Circuit(i))));
            }

            result.Add(new RouteFigures(definition.Name, arms));
        }

        return result;
    }

    private static List<string> Parts(TurbineServerOptions settings)
    {
        var parts = new List<string>(2);
        if (settings.Jobs.Folder is not null)
        {
            parts.Add("jobs");
        }

        if (settings.Registry.Folder is not null)
        {
            parts.Add("registry");
        }

        return parts;
    }

    private List<QualityFigures> Quality()
    {
        var result = new List<QualityFigures>();
        foreach (var monitor in monitoring.Monitors)
        {
            foreach (var check in monitor.Quality.Checks)
            {
                result.Add(new QualityFigures(monitor.Model, monitor.Version, check.Name, check.Policy.ToString().ToLowerInvariant(), check.Checked, check.Broken));
            }
        }

        return result;
    }

    private static string? Circuit(Polly.CircuitBreaker.CircuitState? state) => state switch
    {
        null => null,
        Polly.CircuitBreaker.CircuitState.Open => "open",
        Polly.CircuitBreaker.CircuitState.HalfOpen => "half_open",
        Polly.CircuitBreaker.CircuitState.Isolated => "isolated",
        _ => "closed",
    };

    private static double Rate(long count, double seconds) => seconds > 0 ? count / seconds : 0;

    /// <summary>The quantile of a histogram's counts in milliseconds, interpolated inside its bucket; null when it is empty.</summary>
    internal static double? Quantile(ReadOnlySpan<long> buckets, double quantile)
    {
        long total = 0;
        foreach (var count in buckets)
        {
            total += count;
        }

        if (total == 0)
        {
            return null;
        }

        var rank = quantile * total;
        long below = 0;
        for (var i = 0; i < buckets.Length; i++)
        {
            if (buckets[i] > 0 && below + buckets[i] >= rank)
            {
                var lower = i == 0 ? 0 : Bounds[i - 1];
                var upper = i < Bounds.Length ? Bounds[i] : Bounds[^1]; // above the last bound: the bound, as Prometheus answers
                return (lower + ((upper - lower) * (rank - below) / buckets[i])) / 1e6;
            }

            below += buckets[i];
        }

        return Bounds[^1] / 1e6;
    }

    /// <summary>A version's cumulative counts: successes, failures and the success-latency buckets.</summary>
    private readonly record struct Totals(long Successes, long Failures, long[] Buckets)
    {
        public static Totals Empty { get; } = new(0, 0, new long[Bounds.Length + 1]);

        public static Totals Of(ModelStatistics statistics)
        {
            var buckets = new long[Bounds.Length + 1];
            for (var i = 0; i < buckets.Length; i++)
            {
                buckets[i] = statistics.Success.BucketCount(i);
            }

            return new(statistics.Success.Count, statistics.Fail.Count, buckets);
        }

        public Totals Minus(Totals before)
        {
            var buckets = new long[Buckets.Length];
            for (var i = 0; i < buckets.Length; i++)
            {
                buckets[i] = Math.Max(0, Buckets[i] - before.Buckets[i]);
            }

            return new(Math.Max(0, Successes - before.Successes), Math.Max(0, Failures - before.Failures), buckets);
        }
    }
}
