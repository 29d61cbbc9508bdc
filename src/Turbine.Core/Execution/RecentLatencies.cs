namespace Turbine.Core.Execution;

/// <summary>
/// The latest latencies of a target (512 at most), and a percentile of them refreshed every 32 samples, so that a
/// hedging delay follows the target's current speed at little cost per request.
/// </summary>
/// <param name="percentile">The percentile kept, from 0 to 100.</param>
public sealed class RecentLatencies(double percentile)
{
    private const int Capacity = 512;
    private const int RefreshEvery = 32;
    private readonly double[] _samples = new double[Capacity];
    private readonly Lock _gate = new();
    private int _count;
    private long _added;
    private double _percentileMs = double.NaN;

    /// <summary>The percentile of the latest latencies in milliseconds; NaN until enough are known.</summary>
    public double PercentileMs
    {
        get
        {
            lock (_gate)
            {
                return _percentileMs;
            }
        }
    }

    /// <summary>How long to wait before hedging: the percentile, never less than <paramref name="minimum"/> (and that alone until the percentile is known).</summary>
    public TimeSpan HedgeDelay(TimeSpan minimum)
    {
        var percentile = PercentileMs;
        return double.IsNaN(percentile) ? minimum : TimeSpan.FromMilliseconds(Math.Max(minimum.TotalMilliseconds, percentile));
    }

    public void Add(TimeSpan latency)
    {
        lock (_gate)
        {
            _samples[_added++ % Capacity] = latency.TotalMilliseconds;
            _count = Math.Min(Capacity, _count + 1);
            if (_added % RefreshEvery == 0)
            {
                var sorted = _samples[.._count];
                Array.Sort(sorted);
                _percentileMs = sorted[Math.Min(_count - 1, (int)Math.Ceiling(percentile / 100 * _count) - 1)];
            }
        }
    }
}
