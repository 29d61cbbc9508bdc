using System.Buffers;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Time.Testing;
using Turbine.Server.Transport;

namespace Turbine.IntegrationTests;

/// <summary>Kestrel's socket buffer pool: blocks reused, idle ones dropped after a whole idle period, none kept after dispose.</summary>
public sealed class TransportBlockPoolTests
{
    private const int Block = TransportBlockPool.BlockSize;

    private readonly FakeTimeProvider _time = new();
    private readonly TransportBlockPoolFactory _factory;

    public TransportBlockPoolTests() => _factory = new TransportBlockPoolFactory(_time);

    [Fact]
    public void A_returned_block_is_rented_again_and_is_array_backed_for_Kestrels_sender()
    {
        using var pool = _factory.Create();
        var first = pool.Rent();
        Assert.True(MemoryMarshal.TryGetArray<byte>(first.Memory, out var array));
        first.Dispose();

        using var second = pool.Rent(Block);
        Assert.True(MemoryMarshal.TryGetArray<byte>(second.Memory, out var again));
        Assert.Same(array.Array, again.Array);
        Assert.Equal(Block, second.Memory.Length);
        Assert.Equal(0, _factory.PooledBytes); // its only block is rented
    }

    [Fact]
    public void A_rent_larger_than_a_block_is_refused_so_the_pipe_takes_its_own_array()
    {
        using var pool = _factory.Create();
        Assert.Equal(Block, pool.MaxBufferSize);
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(Block + 1));
    }

    [Fact]
    public void Blocks_a_burst_added_are_dropped_once_a_whole_period_passes_without_needing_them()
    {
        using var pool = _factory.Create();
        RentAndReturn(pool, 100);
        Assert.Equal(100L * Block, _factory.PooledBytes);

        _time.Advance(TransportBlockPool.EvictionPeriod); // the burst's own period needed every block
        Assert.Equal(100L * Block, _factory.PooledBytes);

        _time.Advance(TransportBlockPool.EvictionPeriod); // a whole idle period
        Assert.Equal(0, _factory.PooledBytes);
    }

    [Fact]
    public void A_steady_load_keeps_its_working_set_and_drops_the_rest()
    {
        using var pool = _factory.Create();
        RentAndReturn(pool, 64);
        for (var period = 0; period < 3; period++)
        {
            for (var i = 0; i < 10; i++)
            {
                RentAndReturn(pool, 8);
            }

            _time.Advance(TransportBlockPool.EvictionPeriod);
        }

        Assert.Equal(8L * Block, _factory.PooledBytes);
    }

    [Fact]
    public void Dispose_drops_the_free_blocks_and_each_block_returned_afterwards()
    {
        var pool = (TransportBlockPool)_factory.Create();
        var held = pool.Rent();
        RentAndReturn(pool, 10);
        Assert.Equal(10L * Block, _factory.PooledBytes);

        pool.Dispose();
        Assert.Equal(0, pool.PooledBytes);
        Assert.Throws<ObjectDisposedException>(() => pool.Rent());

        held.Dispose();
        Assert.Equal(0, pool.PooledBytes);
    }

    private static void RentAndReturn(MemoryPool<byte> pool, int blocks)
    {
        var rented = Enumerable.Range(0, blocks).Select(_ => pool.Rent()).ToList();
        rented.ForEach(block => block.Dispose());
    }
}
