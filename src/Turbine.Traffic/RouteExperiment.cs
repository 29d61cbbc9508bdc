namespace Turbine.Traffic;

/// <summary>
/// The outcomes of a route's arms: which arm served each recent request id, and the feedback recorded against them,
/// conversions (yes/no) and numeric values, since the route was last set. The outcomes are checkpointed to the state
/// store (<see cref="ExperimentStore"/>) and survive restarts; the id table does not, and is this replica's alone.
/// </summary>
public sealed class RouteExperiment
{
    /// <summary>How many of the latest request ids can take feedback; an older one's feedback must name its variant.</summary>
    public const int RememberedIds = RecentRequestIds.Capacity;

    private readonly RecentRequestIds _recent = new();
    private readonly ArmOutcomes[] _arms;

    internal RouteExperiment(int arms) => _arms = [.. Enumerable.Range(0, arms).Select(_ => new ArmOutcomes())];

    /// <summary>The outcomes of arm <paramref name="index"/>.</summary>
    public ArmOutcomes Arm(int index) => _arms[index];

    /// <summary>Remembers that <paramref name="requestId"/> was served by arm <paramref name="index"/>.</summary>
    internal void Remember(string requestId, int index) => _recent.Remember(Hash(requestId), (byte)index);

    /// <summary>The arm that served <paramref name="requestId"/>, if it is among the last <see cref="RememberedIds"/> ids.</summary>
    public bool TryFind(string requestId, out int index)
    {
        var found = _recent.TryFind(Hash(requestId), out var arm);
        index = arm;
        return found && index < _arms.Length;
    }

    /// <summary>FNV-1a over the id's characters, never 0.</summary>
    private static long Hash(string id)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in id)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return hash == 0 ? 1 : (long)hash;
    }
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

    /// <summary>The running sums themselves (Welford's sum of squares rather than the variance), for a checkpoint.</summary>
    internal ArmState State()
    {
        lock (_gate)
        {
            return new ArmState(_trials, _successes, _count, _mean, _squares);
        }
    }

    /// <summary>Takes the sums of a checkpoint back.</summary>
    internal void Restore(ArmState state)
    {
        lock (_gate)
        {
            (_trials, _successes, _count, _mean, _squares) = (state.Trials, state.Successes, state.Count, state.Mean, state.Squares);
        }
    }
}

/// <summary>One arm's running sums as a checkpoint holds them.</summary>
internal sealed record ArmState(long Trials, long Successes, long Count, double Mean, double Squares)
{
    /// <summary>The sample variance of the values (0 with fewer than two).</summary>
    public double Variance => Count > 1 ? Squares / (Count - 1) : 0;

    /// <summary>The sums of both sets of outcomes (Chan et al.'s pairwise update for the mean and the sum of squares).</summary>
    public ArmState Plus(ArmState other)
    {
        var count = Count + other.Count;
        if (count == 0)
        {
            return new ArmState(Trials + other.Trials, Successes + other.Successes, 0, 0, 0);
        }

        var delta = other.Mean - Mean;
        var mean = Mean + (delta * other.Count / count);
        var squares = Squares + other.Squares + (delta * delta * Count * other.Count / count);
        return new ArmState(Trials + other.Trials, Successes + other.Successes, count, mean, squares);
    }
}
