namespace Turbine.Traffic.Canary;

/// <summary>
/// A lock-free latency histogram fine enough to judge a p99 gate: buckets grow by 2^(1/8) (about 9%) from 1 µs to
/// about 2 minutes, so a quantile read from it is at most 9% above the true value, and never below it.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int BucketsPerDoubling = 8;
    public const int Buckets = 27 * BucketsPerDoubling; // 2^27 µs is about 134 s; slower samples land in the last bucket

    private readonly long[] _counts = new long[Buckets];
    private long _total;

    public long Count => Interlocked.Read(ref _total);

    public void Record(TimeSpan latency)
    {
        var microseconds = Math.Max(latency.TotalMicroseconds, 1);
        var bucket = Math.Min((int)Math.Ceiling(Math.Log2(microseconds) * BucketsPerDoubling), Buckets - 1);
        Interlocked.Increment(ref _counts[bucket]);
        Interlocked.Increment(ref _total);
    }

    /// <summary>The upper bound of the bucket that holds quantile <paramref name="q"/>; zero when nothing was recorded.</summary>
    public TimeSpan Quantile(double q) => Quantile(Counts(), q);

    /// <summary>A copy of the bucket counts, to add to other replicas' counts.</summary>
    public long[] Counts()
    {
        var counts = new long[Buckets];
        for (var bucket = 0; bucket < Buckets; bucket++)
        {
            counts[bucket] = Interlocked.Read(ref _counts[bucket]);
        }

        return counts;
    }

    /// <summary>The upper bound of the bucket of <paramref name="counts"/> that holds quantile <paramref name="q"/>; zero when they are all zero.</summary>
    public static TimeSpan Quantile(long[] counts, double q)
    {
        var total = 0L;
        foreach (var count in counts)
        {
            total += count;
        }

        if (total == 0)
        {
            return TimeSpan.Zero;
        }

        var rank = (long)Math.Ceiling(q * total);
        var seen = 0L;
        for (var bucket = 0; bucket < counts.Length; bucket++)
        {
            seen += counts[bucket];
            if (seen >= rank)
            {
                return TimeSpan.FromMicroseconds(Math.Pow(2, (double)bucket / BucketsPerDoubling));
            }
        }

        return TimeSpan.FromMicroseconds(Math.Pow(2, (double)(Buckets - 1) / BucketsPerDoubling));
    }
}
