namespace Turbine.Core.Tests;

public sealed class DurationCounterTests
{
    [Fact]
    public void Durations_land_in_the_first_bucket_whose_bound_is_not_below_them()
    {
        var counter = new DurationCounter();

        counter.Record(1);            // <= 50 µs
        counter.Record(50_000);       // exactly 50 µs: bounds are inclusive, as Prometheus' "le"
        counter.Record(50_001);       // <= 100 µs
        counter.Record(3_000_000);    // <= 5 ms
        counter.Record(60_000_000_000); // above every bound

        Assert.Equal(2, counter.BucketCount(0));
        Assert.Equal(1, counter.BucketCount(1));
        Assert.Equal(1, counter.BucketCount(DurationCounter.BucketBounds.IndexOf(5_000_000)));
        Assert.Equal(1, counter.BucketCount(DurationCounter.BucketBounds.Length));
        Assert.Equal(5, counter.Count);
        Assert.Equal(1 + 50_000 + 50_001 + 3_000_000 + 60_000_000_000L, counter.Nanoseconds);
    }
}
