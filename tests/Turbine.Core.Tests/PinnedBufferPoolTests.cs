namespace Turbine.Core.Tests;

/// <summary>The pinned pool keeps a bounded number of bytes and gives idle ones back.</summary>
public sealed class PinnedBufferPoolTests
{
    private const int Mebibyte = 1024 * 1024;

    [Fact]
    public void Returned_arrays_beyond_the_byte_budget_are_dropped_not_kept()
    {
        var pool = new PinnedBufferPool(budgetBytes: 8L * Mebibyte);
        var rented = Enumerable.Range(0, 6).Select(_ => pool.Rent(2 * Mebibyte)).ToList();

        rented.ForEach(pool.Return);

        Assert.Equal(8L * Mebibyte, pool.PooledBytes); // four of the six; the old pool kept 64 per size, whatever their size
        Assert.Contains(pool.Rent(2 * Mebibyte), rented); // reused, not allocated
        Assert.Equal(6L * Mebibyte, pool.PooledBytes);
    }

    [Fact]
    public void A_size_nobody_rents_between_two_looks_is_given_back_and_a_busy_one_is_kept()
    {
        var pool = new PinnedBufferPool();
        var idle = pool.Rent(4 * Mebibyte);
        var busy = pool.Rent(1024);
        pool.Return(idle);
        pool.Return(busy);
        pool.TrimIdle(); // first look: both sizes were rented since the last one

        pool.Return(pool.Rent(1024)); // only the small size is used again
        var dropped = pool.TrimIdle();

        Assert.Equal(4L * Mebibyte, dropped);
        Assert.Equal(1024, pool.PooledBytes);
        Assert.Equal(1024, pool.Trim());
        Assert.Equal(0, pool.PooledBytes);
    }
}
