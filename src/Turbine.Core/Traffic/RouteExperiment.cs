using System.Collections.Concurrent;

namespace Turbine.Core.Traffic;

/// <summary>
/// The outcomes of a route's arms: which arm served each recent request id, and the feedback recorded against them,
/// conversions (yes/no) and numeric values. In memory, since the route was last set.
/// </summary>
public sealed class RouteExperiment
{
    /// <summary>Request ids remembered per route; feedback for an older id must name its variant.</summary>
    public const int RememberedIds = 100_000;

    private readonly ConcurrentDictionary<string, int> _servedBy = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();
    private readonly ArmOutcomes[] _arms;

    internal RouteExperiment(int arms) => _arms = [.. Enumerable.Range(0, arms).Select(_ => new ArmOutcomes())];

    /// <summary>The outcomes of arm <paramref name="index"/>.</summary>
    public ArmOutcomes Arm(int index) => _arms[index];

    /// <summary>Remembers that <paramref name="requestId"/> was served by arm <paramref name="index"/>; the oldest ids are forgotten.</summary>
    internal void Remember(string requestId, int index)
    {
        if (_servedBy.TryAdd(requestId, index))
        {
            _order.Enqueue(requestId);
            while (_servedBy.Count > RememberedIds && _order.TryDequeue(out var oldest))
            {
                _servedBy.TryRemove(oldest, out _);
            }
        }
    }

    /// <summary>The arm that served <paramref name="requestId"/>, if it is still remembered.</summary>
    public bool TryFind(string requestId, out int index) => _servedBy.TryGetValue(requestId, out index);
}

/// <summary>One arm's feedback: conversions as trials and successes, values as count, mean and variance (Welford).</summary>
public sealed class ArmOutcomes
{
    private readonly Lock _gate = new();
    private long _trials;
    private long _successes;
    private long _count;
    private double _mean;
    private double _squares;

    /// <summary>Records a yes/no outcome.</summary>
    public void AddConversion(bool converted)
    {
        lock (_gate)
        {
            _trials++;
            _successes += converted ? 1 : 0;
        }
    }

    /// <summary>Records a numeric outcome.</summary>
    public void AddValue(double value)
    {
        lock (_gate)
        {
            _count++;
            var delta = value - _mean;
            _mean += delta / _count;
            _squares += delta * (value - _mean);
        }
    }

    /// <summary>A consistent copy of the figures.</summary>
    public (long Trials, long Successes, long Count, double Mean, double Variance) Snapshot()
    {
        lock (_gate)
        {
            return (_trials, _successes, _count, _mean, _count > 1 ? _squares / (_count - 1) : 0);
        }
    }
}
