using System.Runtime.InteropServices;

namespace Turbine.Traffic;

/// <summary>
/// What a route's shadow did against the primary: requests mirrored, dropped (queue full) and failed; for the ones
/// compared, how often the outputs matched exactly, the largest and mean absolute difference of numeric outputs, how
/// often a classifier's top-1 agreed, and both sides' latency.
/// </summary>
public sealed class ShadowComparison
{
    private readonly Lock _gate = new();
    private long _mirrored;
    private long _dropped;
    private long _shed;
    private long _failed;
    private long _compared;
    private long _exact;
    private long _top1Compared;
    private long _top1Agreed;
    private double _maxAbsDiff;
    private double _sumMeanAbsDiff;
    private double _primarySeconds;
    private double _shadowSeconds;

    internal void Dropped() => Interlocked.Increment(ref _dropped);

    internal void Shed() => Interlocked.Increment(ref _shed);

    internal void Mirrored() => Interlocked.Increment(ref _mirrored);

    internal void Failed() => Interlocked.Increment(ref _failed);

    /// <summary>Compares two answers output by output (matched by name).</summary>
    internal void Compare(IReadOnlyList<Tensor> primary, IReadOnlyList<Tensor> shadow, TimeSpan primaryLatency, TimeSpan shadowLatency)
    {
        var exact = primary.Count == shadow.Count;
        var max = 0.0;
        var sum = 0.0;
        var values = 0L;
        bool? top1 = null;
        foreach (var p in primary)
        {
            var s = shadow.FirstOrDefault(t => t.Name == p.Name);
            if (s is null || s.DataType != p.DataType || !s.Shape.AsSpan().SequenceEqual(p.Shape))
            {
                exact = false;
                continue;
            }

            exact &= s.Data.Span.SequenceEqual(p.Data.Span);
            if (TensorValues.AsDoubles(p) is { } a && TensorValues.AsDoubles(s) is { } b)
            {
                for (var i = 0; i < a.Length; i++)
                {
                    var difference = Math.Abs(a[i] - b[i]);
                    max = Math.Max(max, difference);
                    sum += difference;
                }

                values += a.Length;
                if (top1 is null && p.Shape.Length > 0 && p.Shape[^1] > 1)
                {
                    top1 = ArgMax(a, (int)p.Shape[^1]) == ArgMax(b, (int)p.Shape[^1]);
                }
            }
        }

        lock (_gate)
        {
            _compared++;
            _exact += exact ? 1 : 0;
            _maxAbsDiff = Math.Max(_maxAbsDiff, max);
            _sumMeanAbsDiff += values == 0 ? 0 : sum / values;
            if (top1 is { } agreed)
            {
                _top1Compared++;
                _top1Agreed += agreed ? 1 : 0;
            }

            _primarySeconds += primaryLatency.TotalSeconds;
            _shadowSeconds += shadowLatency.TotalSeconds;
        }
    }

    /// <summary>A consistent copy of the figures.</summary>
    public ShadowFigures Snapshot()
    {
        lock (_gate)
        {
            return new ShadowFigures(
                Interlocked.Read(ref _mirrored), Interlocked.Read(ref _dropped), Interlocked.Read(ref _shed), Interlocked.Read(ref _failed), _compared, _exact,
                _maxAbsDiff, _compared == 0 ? 0 : _sumMeanAbsDiff / _compared, _top1Compared, _top1Agreed,
                _compared == 0 ? 0 : _primarySeconds / _compared, _compared == 0 ? 0 : _shadowSeconds / _compared);
        }
    }

    /// <summary>The first row's class: the argmax over the last dimension.</summary>
    private static int ArgMax(double[] values, int classes)
    {
        var best = 0;
        for (var i = 1; i < Math.Min(classes, values.Length); i++)
        {
            best = values[i] > values[best] ? i : best;
        }

        return best;
    }

}

/// <summary>The figures of <see cref="ShadowComparison"/> at one moment.</summary>
public sealed record ShadowFigures(
    long Mirrored, long Dropped, long Shed, long Failed, long Compared, long ExactMatches, double MaxAbsDiff, double MeanAbsDiff,
    long Top1Compared, long Top1Agreed, double PrimaryMeanSeconds, double ShadowMeanSeconds);
