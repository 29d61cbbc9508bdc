using System.Buffers;
using System.Collections.Concurrent;

namespace Turbine.Server.Transport;

/// <summary>
/// Kestrel's socket buffers: 4 KiB blocks on the ordinary heap, freed once they go unused. Kestrel's own pool puts its
/// blocks on the pinned object heap, which is never compacted: after a burst of large requests the blocks it evicts
/// leave holes that stay committed (about 100 MiB after eight concurrent 12 MiB requests, still there minutes later).
/// Ordinary arrays are compacted away. Sockets on Linux read and write them without pinning (the runtime waits for
/// readiness, then copies in one call), and Kestrel's sender needs array-backed memory anyway.
/// </summary>
/// <remarks>
/// Every <see cref="EvictionPeriod"/> the pool frees the blocks that no rent needed during the whole period: the
/// fewest blocks that sat free at any moment since the previous look. A steady load keeps its working set; the
/// blocks a burst added are gone one or two periods after it, and <see cref="MemoryRelease"/> gives their pages back.
/// </remarks>
internal sealed class TransportBlockPool : MemoryPool<byte>
{
    public const int BlockSize = 4096;

    public static readonly TimeSpan EvictionPeriod = TimeSpan.FromSeconds(10);

    private readonly ConcurrentQueue<Block> _free = new();
    private readonly ITimer _evictionTimer;
    private readonly Action<TransportBlockPool> _disposed;
    private int _freeCount;
    private int _lowWater;
    private volatile bool _isDisposed;

    public TransportBlockPool(TimeProvider time, Action<TransportBlockPool> disposed)
    {
        _disposed = disposed;
        _evictionTimer = time.CreateTimer(static pool => ((TransportBlockPool)pool!).EvictIdle(), this, EvictionPeriod, EvictionPeriod);
    }

    public override int MaxBufferSize => BlockSize;

    /// <summary>Bytes of free blocks kept for reuse (rented blocks not counted).</summary>
    public long PooledBytes => (long)Volatile.Read(ref _freeCount) * BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        ObjectDisposedException.ThrowIf(_isDisposed, this);
        if (_free.TryDequeue(out var block))
        {
            var left = Interlocked.Decrement(ref _freeCount);
            if (left < Volatile.Read(ref _lowWater))
            {
                Volatile.Write(ref _lowWater, left); // a racy minimum: an estimate of the idle blocks is all eviction needs
            }

            return block;
        }

        Volatile.Write(ref _lowWater, 0);
        return new Block(this);
    }

    /// <summary>Drops the blocks that no rent needed since the previous look; returns how many.</summary>
    internal int EvictIdle()
    {
        var idle = Volatile.Read(ref _lowWater);
        var dropped = 0;
        while (dropped < idle && _free.TryDequeue(out _))
        {
            Interlocked.Decrement(ref _freeCount);
            dropped++;
        }

        Volatile.Write(ref _lowWater, Volatile.Read(ref _freeCount));
        MemoryRelease.AfterDropping((long)dropped * BlockSize);
        return dropped;
    }

    protected override void Dispose(bool disposing)
    {
        if (_isDisposed)
        {
            return;
        }

        _isDisposed = true;
        _evictionTimer.Dispose();
        _free.Clear();
        Volatile.Write(ref _freeCount, 0);
        _disposed(this);
    }

    private void Return(Block block)
    {
        if (_isDisposed)
        {
            return; // dropped: the collector takes it
        }

        _free.Enqueue(block);
        Interlocked.Increment(ref _freeCount);
    }

    /// <summary>One block, reused across rents: disposing the owner returns it to its pool.</summary>
    private sealed class Block(TransportBlockPool pool) : IMemoryOwner<byte>
    {
        public Memory<byte> Memory { get; } = GC.AllocateUninitializedArray<byte>(BlockSize);

        public void Dispose() => pool.Return(this);
    }
}
