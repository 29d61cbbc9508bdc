using System.Collections.Concurrent;

namespace Turbine;

/// <summary>
/// A count, the total nanoseconds spent and a histogram of the durations, updated without locks. The statistics
/// endpoints report the count and total; the metrics endpoint also the histogram.
/// </summary>
public sealed class DurationCounter
{
    private static readonly long[] Bounds =
    [
        50_000, 100_000, 250_000, 500_000,
        1_000_000, 2_500_000, 5_000_000, 10_000_000, 25_000_000, 50_000_000, 100_000_000, 250_000_000, 500_000_000,
        1_000_000_000, 2_500_000_000, 5_000_000_000, 10_000_000_000,
    ];

    private readonly long[] _buckets = new long[Bounds.Length + 1];
    private long _count;
    private long _nanoseconds;

    /// <summary>Upper bounds of the histogram buckets in nanoseconds (50 µs to 10 s); a last bucket holds the rest.</summary>
    public static ReadOnlySpan<long> BucketBounds => Bounds;

    /// <summary>How many times it was recorded.</summary>
    public long Count => Volatile.Read(ref _count);

    /// <summary>Total nanoseconds recorded.</summary>
    public long Nanoseconds => Volatile.Read(ref _nanoseconds);

    /// <summary>How many durations fell in bucket <paramref name="index"/> (not cumulative); the last index is above every bound.</summary>
    public long BucketCount(int index) => Volatile.Read(ref _buckets[index]);

    /// <summary>Adds one occurrence that took <paramref name="nanoseconds"/>.</summary>
    public void Record(long nanoseconds)
    {
        Interlocked.Increment(ref _count);
        Interlocked.Add(ref _nanoseconds, nanoseconds);
        Interlocked.Increment(ref _buckets[BucketOf(nanoseconds)]);
    }

    private static int BucketOf(long nanoseconds)
    {
        var index = Array.BinarySearch(Bounds, nanoseconds);
        return index >= 0 ? index : ~index; // a bound is inclusive ("le"), as Prometheus counts it
    }
}

/// <summary>Per-batch-size compute timings (Triton's batch_stats).</summary>
public sealed class BatchStatistics
{
    /// <summary>Time spent preparing inputs.</summary>
    public DurationCounter ComputeInput { get; } = new();

    /// <summary>Time spent in the backend.</summary>
    public DurationCounter ComputeInfer { get; } = new();

    /// <summary>Time spent copying outputs.</summary>
    public DurationCounter ComputeOutput { get; } = new();
}

/// <summary>Inference statistics of one model version, in the shape of Triton's statistics extension.</summary>
public sealed class ModelStatistics
{
    private long _inferenceCount;
    private long _executionCount;
    private long _lastInferenceMs;

    /// <summary>Successful requests: count and total end-to-end time.</summary>
    public DurationCounter Success { get; } = new();

    /// <summary>Failed requests: count and total time.</summary>
    public DurationCounter Fail { get; } = new();

    /// <summary>Time spent waiting in the queue.</summary>
    public DurationCounter Queue { get; } = new();

    /// <summary>Time spent preparing inputs.</summary>
    public DurationCounter ComputeInput { get; } = new();

    /// <summary>Time spent in the backend.</summary>
    public DurationCounter ComputeInfer { get; } = new();

    /// <summary>Time spent copying outputs.</summary>
    public DurationCounter ComputeOutput { get; } = new();

    /// <summary>Requests answered from the response cache, and the time the lookups took.</summary>
    public DurationCounter CacheHit { get; } = new();

    /// <summary>Lookups in the response cache that found nothing, and the time they took.</summary>
    public DurationCounter CacheMiss { get; } = new();

    /// <summary>Timings by batch size.</summary>
    public ConcurrentDictionary<long, BatchStatistics> Batches { get; } = new();

    /// <summary>Inferences performed (a batch of 8 counts 8).</summary>
    public long InferenceCount => Volatile.Read(ref _inferenceCount);

    /// <summary>Backend executions (a batch of 8 counts 1).</summary>
    public long ExecutionCount => Volatile.Read(ref _executionCount);

    /// <summary>When the last inference finished, in milliseconds since the Unix epoch; 0 if never.</summary>
    public long LastInferenceMs => Volatile.Read(ref _lastInferenceMs);

    /// <summary>Records one backend execution.</summary>
    public void RecordExecution(long batchSize, long inputNs, long inferNs, long outputNs, long nowMs)
    {
        Interlocked.Add(ref _inferenceCount, batchSize);
        Interlocked.Increment(ref _executionCount);
        Volatile.Write(ref _lastInferenceMs, nowMs);
        ComputeInput.Record(inputNs);
        ComputeInfer.Record(inferNs);
        ComputeOutput.Record(outputNs);
        var batch = Batches.GetOrAdd(batchSize, static _ => new BatchStatistics());
        batch.ComputeInput.Record(inputNs);
        batch.ComputeInfer.Record(inferNs);
        batch.ComputeOutput.Record(outputNs);
    }
}
