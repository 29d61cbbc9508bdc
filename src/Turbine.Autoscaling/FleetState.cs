namespace Turbine.Autoscaling;

/// <summary>The simulation's running figures: replicas, latencies, refusals and replica-time.</summary>
internal sealed class FleetState
{
    private readonly double[] _serviceTimes;
    private readonly List<double> _latencies = [];
    private readonly List<(double Time, int Replicas)> _timeline = [];
    private long _refused;
    private double _now;
    private double _replicaSeconds;
    private int _maxReplicas;

    public FleetState(FleetSettings settings, int requests, int seed)
    {
        Settings = settings;
        var random = new Random(seed);
        _serviceTimes = new double[requests];
        for (var k = 0; k < requests; k++)
        {
            _serviceTimes[k] = settings.Service.Draw(random);
        }
    }

    public FleetSettings Settings { get; }

    public ServiceModel Service => Settings.Service;

    public List<Replica> Replicas { get; } = [];

    public int ArrivedInPeriod { get; set; }

    public double ServiceTime(int request) => _serviceTimes[request];

    /// <summary>Moves the clock, adding the replicas that existed meanwhile to the replica-time.</summary>
    public void Advance(double now)
    {
        var existing = 0;
        foreach (var replica in Replicas)
        {
            existing += replica.Exists ? 1 : 0;
        }

        _replicaSeconds += existing * Math.Max(0, now - _now);
        _maxReplicas = Math.Max(_maxReplicas, existing);
        _now = Math.Max(_now, now);
    }

    public Replica? LeastLoaded()
    {
        Replica? best = null;
        var bestLoad = double.MaxValue;
        foreach (var replica in Replicas)
        {
            if (!replica.IsReady)
            {
                continue;
            }

            var load = (double)(replica.Busy + replica.Queue.Count) / Service.Slots;
            if (load < bestLoad)
            {
                (best, bestLoad) = (replica, load);
            }
        }

        return best;
    }

    public void Answer(double latency) => _latencies.Add(latency);

    public void Refuse() => _refused++;

    public void RecordReplicas(double now) => _timeline.Add((now, Replicas.Count(r => !r.IsRemoved)));

    private static double Percentile(double[] sorted, double share) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(share * sorted.Length) - 1, 0, sorted.Length - 1)];

    public SimulationResult Summary(string policy)
    {
        var sorted = _latencies.ToArray();
        Array.Sort(sorted);
        var requests = sorted.Length + _refused;
        var met = sorted.Count(l => l <= Settings.SloSeconds);
        return new SimulationResult(
            policy, requests, _refused, requests == 0 ? 1 : (double)met / requests, sorted.Length == 0 ? 0 : sorted.Average(),
            Percentile(sorted, 0.5), Percentile(sorted, 0.99),
            _replicaSeconds, _replicaSeconds / 3600 * Settings.ReplicaHourPrice, _maxReplicas, _timeline);
    }
}

/// <summary>What a policy achieved on a trace.</summary>
/// <param name="Policy">The policy.</param>
/// <param name="Requests">Requests in the trace.</param>
/// <param name="Refused">Requests refused (no ready replica, or a full queue).</param>
/// <param name="SloAttainment">The share of requests answered within the objective (refused ones count as missed).</param>
/// <param name="MeanLatency">Mean latency of answered requests, seconds.</param>
/// <param name="P50Latency">Their median.</param>
/// <param name="P99Latency">Their 99th percentile.</param>
/// <param name="ReplicaSeconds">Replica-time paid for (starting, serving and draining replicas).</param>
/// <param name="Cost">That time at the replica-hour price.</param>
/// <param name="MaxReplicas">The most replicas at once.</param>
/// <param name="Timeline">The replicas wanted after each sync.</param>
public sealed record SimulationResult(
    string Policy, long Requests, long Refused, double SloAttainment, double MeanLatency, double P50Latency, double P99Latency, double ReplicaSeconds, double Cost, int MaxReplicas,
    IReadOnlyList<(double Time, int Replicas)> Timeline);
