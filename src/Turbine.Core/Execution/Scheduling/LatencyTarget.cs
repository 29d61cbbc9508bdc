namespace Turbine.Core.Execution.Scheduling;

/// <summary>
/// Latency-aware batching (<c>dynamic_batching.max_latency_ms</c>): from what batches cost lately, decides how long a
/// forming batch may wait, and refuses at once the requests that the queue ahead of them would make late, instead
/// of letting them time out after waiting.
/// </summary>
internal sealed class LatencyTarget
{
    private readonly int _instances;
    private readonly long _batchRows;

    /// <param name="milliseconds">The target: time from arrival to answer.</param>
    /// <param name="timestampFrequency">Ticks per second of the scheduler's clock.</param>
    /// <param name="instances">Instances that run batches side by side.</param>
    /// <param name="batchRows">The batch size the scheduler aims for.</param>
    public LatencyTarget(double milliseconds, long timestampFrequency, int instances, long batchRows)
    {
        Milliseconds = milliseconds;
        Ticks = (long)(milliseconds * PlannedShare * timestampFrequency / 1000.0);
        _instances = instances;
        _batchRows = batchRows;
    }

    /// <summary>
    /// The scheduler plans against this share of the target; the rest absorbs prediction error and the time a request
    /// spends outside the queue (decoding, the network), which the scheduler does not see.
    /// </summary>
    public const double PlannedShare = 0.9;

    /// <summary>The target as configured.</summary>
    public double Milliseconds { get; }

    /// <summary>The planned share of the target, in timestamp ticks.</summary>
    public long Ticks { get; }

    public BatchCostModel Costs { get; } = new();

    /// <summary>
    /// Predicts when a request of <paramref name="rows"/> rows, queued behind <paramref name="queuedRows"/> rows, would
    /// be answered: the rows ahead and its own, cut into batches of the target size and shared among the instances,
    /// plus what is running now when every instance is busy. False only when a prediction exists and it misses the
    /// target.
    /// </summary>
    public bool CanAdmit(long queuedRows, long rows, int busyInstances, long executingRows, out long predictedTicks)
    {
        if (!Costs.TryEstimate(_batchRows, out var fullBatchTicks))
        {
            predictedTicks = 0;
            return true; // nothing learned yet: admit, and learn from it
        }

        var ahead = queuedRows + rows;
        var work = (ahead / _batchRows * fullBatchTicks) + (ahead % _batchRows > 0 ? Estimate(ahead % _batchRows) : 0);
        predictedTicks = work / _instances;
        if (busyInstances >= _instances && executingRows > 0)
        {
            predictedTicks += Estimate(Math.Min(_batchRows, (executingRows + busyInstances - 1) / busyInstances));
        }

        return predictedTicks <= Ticks;
    }

    /// <summary>
    /// The latest moment a forming batch may start and still answer its oldest request in time: the target less the
    /// cost of a full batch, and less one more in case the instance that takes it next is still busy. Null before
    /// anything is learned.
    /// </summary>
    public long? StartBy(long oldestEnqueuedAt) =>
        Costs.TryEstimate(_batchRows, out var batchTicks) ? oldestEnqueuedAt + Ticks - (2 * batchTicks) : null;

    /// <summary>Whether a batch of <paramref name="rows"/> rows started at <paramref name="now"/> would answer after <paramref name="answerBy"/>.</summary>
    public bool WouldBeLate(long rows, long now, long answerBy) =>
        Costs.TryEstimate(rows, out var ticks) && now + ticks > answerBy;

    private long Estimate(long rows) => Costs.TryEstimate(rows, out var ticks) ? ticks : 0;

    /// <summary>Whether a request about to run can no longer make its target (it would be answered late).</summary>
    public bool IsHopeless(WorkItem item, long now) => WouldBeLate(item.Validated.BatchSize, now, item.AnswerBy);
}
