namespace Turbine.Remote;

/// <summary>
/// The latest round trips to a remote (512 at most), and a percentile of them refreshed every 32 samples, so that the
/// hedging delay follows the remote's current speed at little cost per request.
/// </summary>
internal sealed class RoundTrips(double percentile)
{
    private const int Capacity = 512;
    private const int RefreshEvery = 32;
    private readonly double[] _samples = new double[Capacity];
    private readonly Lock _gate = new();
    private int _count;
    private long _added;
    private double _percentileMs = double.NaN;

    /// <summary>The percentile of the latest round trips in milliseconds; NaN until enough are known.</summary>
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

    public void Add(TimeSpan roundTrip)
    {
        lock (_gate)
        {
            _samples[_added++ % Capacity] = roundTrip.TotalMilliseconds;
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
