using System.Collections.Concurrent;
using System.Numerics;

namespace Turbine;

/// <summary>
/// A pool of byte arrays allocated on the pinned object heap, so native code (ONNX Runtime) can read them in place
/// without pinning per call. Arrays are bucketed by power-of-two size and the pool keeps at most
/// <see cref="BudgetBytes"/> in all: a burst of large requests cannot pin the peak for good. It also gives memory
/// back on its own: every <see cref="IdleAfter"/> it drops the arrays of sizes nobody rented since the last look, and
/// after a full garbage collection under memory pressure it drops everything.
/// </summary>
public sealed class PinnedBufferPool
{
    private const int MinBucketBits = 8; // 256 bytes
    private const int MaxBucketBits = 28; // 256 MiB; larger buffers are allocated and dropped
    private readonly ConcurrentBag<byte[]>[] _buckets;
    private readonly int[] _rentedSinceTrim;
    private long _pooledBytes;
    private Timer? _idleTimer;

    /// <summary>Creates a pool that keeps at most <paramref name="budgetBytes"/> of arrays.</summary>
    public PinnedBufferPool(long budgetBytes = 256L * 1024 * 1024)
    {
        BudgetBytes = budgetBytes;
        _buckets = new ConcurrentBag<byte[]>[MaxBucketBits - MinBucketBits + 1];
        _rentedSinceTrim = new int[_buckets.Length];
        for (var i = 0; i < _buckets.Length; i++)
        {
            _buckets[i] = [];
        }

        PressureWatch.Start(this);
    }

    /// <summary>The process-wide pool.</summary>
    public static PinnedBufferPool Shared { get; } = new();

    /// <summary>The most bytes the pool keeps; an array returned beyond it is dropped.</summary>
    public long BudgetBytes { get; set; }

    /// <summary>Bytes held by the pool now (rented arrays are not counted), for the <c>turbine_pinned_pool_bytes</c> metric.</summary>
    public long PooledBytes => Interlocked.Read(ref _pooledBytes);

    /// <summary>How long a size may go unrented before its arrays are dropped; <see cref="Timeout.InfiniteTimeSpan"/> never drops them.</summary>
    public TimeSpan IdleAfter
    {
        get;
        set
        {
            field = value;
            var timer = new Timer(static state => ((PinnedBufferPool)state!).TrimIdle(), this, value, value);
            Interlocked.Exchange(ref _idleTimer, timer)?.Dispose();
        }
    } = Timeout.InfiniteTimeSpan;

    /// <summary>Rents a pinned array of at least <paramref name="minimumLength"/> bytes.</summary>
    public byte[] Rent(int minimumLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(minimumLength);
        var bucket = BucketIndex(minimumLength);
        if (bucket < 0)
        {
            return GC.AllocateUninitializedArray<byte>(minimumLength, pinned: true);
        }

        Volatile.Write(ref _rentedSinceTrim[bucket], 1);
        if (_buckets[bucket].TryTake(out var array))
        {
            Interlocked.Add(ref _pooledBytes, -array.Length);
            return array;
        }

        return GC.AllocateUninitializedArray<byte>(1 << (bucket + MinBucketBits), pinned: true);
    }

    /// <summary>Returns an array obtained from <see cref="Rent"/>; dropped when the pool's budget is spent.</summary>
    public void Return(byte[] array)
    {
        ArgumentNullException.ThrowIfNull(array);
        if (!BitOperations.IsPow2(array.Length))
        {
            return;
        }

        var bucket = BucketIndex(array.Length);
        if (bucket < 0)
        {
            return;
        }

        if (Interlocked.Add(ref _pooledBytes, array.Length) > BudgetBytes)
        {
            Interlocked.Add(ref _pooledBytes, -array.Length);
            return;
        }

        _buckets[bucket].Add(array);
    }

    /// <summary>Drops every pooled array; the garbage collector frees them at its next full collection.</summary>
    /// <returns>The bytes dropped.</returns>
    public long Trim() => Trim(idleOnly: false, collect: true);

    /// <summary>Drops the arrays of sizes that nobody rented since the previous look.</summary>
    /// <returns>The bytes dropped.</returns>
    public long TrimIdle() => Trim(idleOnly: true, collect: true);

    private long Trim(bool idleOnly, bool collect)
    {
        long dropped = 0;
        for (var bucket = 0; bucket < _buckets.Length; bucket++)
        {
            if (Interlocked.Exchange(ref _rentedSinceTrim[bucket], 0) == 1 && idleOnly)
            {
                continue;
            }

            while (_buckets[bucket].TryTake(out var array))
            {
                Interlocked.Add(ref _pooledBytes, -array.Length);
                dropped += array.Length;
            }
        }

        if (collect)
        {
            MemoryRelease.AfterDropping(dropped); // only after 16 MiB of sizes went unused for a whole idle period
        }

        return dropped;
    }

    private static int BucketIndex(int length)
    {
        var bits = length <= 1 << MinBucketBits ? MinBucketBits : BitOperations.Log2((uint)length - 1) + 1;
        return bits > MaxBucketBits ? -1 : bits - MinBucketBits;
    }

    /// <summary>
    /// Finalized once after every full collection, and re-registered, the way the runtime's own array pools watch for
    /// pressure: when memory is nearly all used, the pool empties itself.
    /// </summary>
    private sealed class PressureWatch
    {
        private readonly WeakReference<PinnedBufferPool> _pool;

        private PressureWatch(PinnedBufferPool pool) => _pool = new WeakReference<PinnedBufferPool>(pool);

        ~PressureWatch()
        {
            if (!_pool.TryGetTarget(out var pool))
            {
                return;
            }

            var memory = GC.GetGCMemoryInfo();
            if (memory.MemoryLoadBytes >= memory.HighMemoryLoadThresholdBytes * 0.9)
            {
                pool.Trim(idleOnly: false, collect: false); // a collection just ran: the next one frees what this drops
            }

            GC.ReRegisterForFinalize(this);
        }

        public static void Start(PinnedBufferPool pool) => _ = new PressureWatch(pool);
    }
}
