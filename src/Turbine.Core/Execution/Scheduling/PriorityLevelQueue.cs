namespace Turbine.Core.Execution.Scheduling;

/// <summary>
/// The requests of one priority level: those still on time in arrival order, then those that expired under a
/// DELAY policy, which run only when nothing on time is left (Triton's timeout_action DELAY).
/// </summary>
internal sealed class PriorityLevelQueue(QueuePolicyConfig policy)
{
    private readonly WorkItemList _onTime = new();
    private readonly WorkItemList _delayed = new();

    public QueuePolicyConfig Policy { get; } = policy;

    public int Count => _onTime.Count + _delayed.Count;

    /// <summary>Whether the level is at its bound, counting <paramref name="held"/> of its requests waiting in a gathering batch.</summary>
    public bool IsFull(int held) => Policy.MaxQueueSize > 0 && Count + held >= Policy.MaxQueueSize;

    public void Add(WorkItem item) => _onTime.AddLast(item);

    public bool TryTake(long now, out WorkItem item)
    {
        // Only the head needs checking: an expired item further back is moved when it reaches the head, and until
        // then everything in front of it is taken first anyway.
        while (!Policy.RejectOnTimeout && _onTime.First is { } head && head.ExpiresAt < now)
        {
            _onTime.Remove(head);
            _delayed.AddLast(head);
        }

        var first = _onTime.First ?? _delayed.First;
        if (first is null)
        {
            item = null!;
            return false;
        }

        first.List!.Remove(first);
        item = first;
        return true;
    }
}
