using System.Collections.Concurrent;
using System.Numerics;

namespace Turbine;

/// <summary>
/// A pool of byte arrays allocated on the pinned object heap, so native code (ONNX Runtime) can read them in place
/// without pinning per call. Arrays are bucketed by power-of-two size; each bucket keeps a bounded number.
/// </summary>
public sealed class PinnedBufferPool
{
    private const int MinBucketBits = 8; // 256 bytes
    private const int MaxBucketBits = 28; // 256 MiB; larger buffers are allocated and dropped
    private readonly ConcurrentBag<byte[]>[] _buckets;
    private readonly int[] _counts;
    private readonly int _maxPerBucket;

    /// <summary>Creates a pool that keeps at most <paramref name="maxArraysPerBucket"/> arrays of each size.</summary>
    public PinnedBufferPool(int maxArraysPerBucket = 64)
    {
        _maxPerBucket = maxArraysPerBucket;
        _buckets = new ConcurrentBag<byte[]>[MaxBucketBits - MinBucketBits + 1];
        _counts = new int[_buckets.Length];
        for (var i = 0; i < _buckets.Length; i++)
        {
            _buckets[i] = [];
        }
    }

    /// <summary>The process-wide pool.</summary>
    public static PinnedBufferPool Shared { get; } = new();

    /// <summary>Rents a pinned array of at least <paramref name="minimumLength"/> bytes.</summary>
    public byte[] Rent(int minimumLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(minimumLength);
        var bucket = BucketIndex(minimumLength);
        if (bucket < 0)
        {
            return GC.AllocateUninitializedArray<byte>(minimumLength, pinned: true);
        }

        if (_buckets[bucket].TryTake(out var array))
        {
            Interlocked.Decrement(ref _counts[bucket]);
            return array;
        }

        return GC.AllocateUninitializedArray<byte>(1 << (bucket + MinBucketBits), pinned: true);
    }

    /// <summary>Returns an array obtained from <see cref="Rent"/>.</summary>
    public void Return(byte[] array)
    {
        ArgumentNullException.ThrowIfNull(array);
        if (!BitOperations.IsPow2(array.Length))
        {
            return;
        }

        var bucket = BucketIndex(array.Length);
        if (bucket < 0 || Interlocked.Increment(ref _counts[bucket]) > _maxPerBucket)
        {
            if (bucket >= 0)
            {
                Interlocked.Decrement(ref _counts[bucket]);
            }

            return;
        }

        _buckets[bucket].Add(array);
    }

    private static int BucketIndex(int length)
    {
        var bits = length <= 1 << MinBucketBits ? MinBucketBits : BitOperations.Log2((uint)length - 1) + 1;
        return bits > MaxBucketBits ? -1 : bits - MinBucketBits;
    }
}
