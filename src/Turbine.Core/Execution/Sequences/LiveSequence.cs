namespace Turbine.Core.Execution.Sequences;

/// <summary>
/// A sequence the batcher knows: its requests in arrival order (they run one at a time, in that order), where it
/// runs (a slot of one instance for <c>direct</c>, a candidate place for <c>oldest</c>; none while it waits in the
/// backlog), and its implicit state between requests. Read and written under the runner's lock only.
/// </summary>
internal sealed class LiveSequence(CorrelationId id)
{
    public CorrelationId Id { get; } = id;

    public Queue<SequenceWork> Pending { get; } = new();

    /// <summary>Whether one of its requests is in a batch now.</summary>
    public bool IsRunning { get; set; }

    /// <summary>Whether its last queued request ends it: after that only a new START may follow.</summary>
    public bool EndQueued { get; set; }

    /// <summary>Since when it has had nothing queued or running (a timestamp); what the idle limit counts from.</summary>
    public long IdleSince { get; set; }

    /// <summary>The instance whose slot it holds (direct); -1 while it waits in the backlog (or under oldest).</summary>
    public int Instance { get; set; } = -1;

    /// <summary>Its slot, the row it takes in its instance's batches (direct).</summary>
    public int Slot { get; set; } = -1;

    /// <summary>Whether it holds a slot or candidate place, so its requests may run.</summary>
    public bool IsPlaced { get; set; }

    /// <summary>One row of each implicit state as the model last gave it; null until its first request has run.</summary>
    public byte[][]? State { get; set; }

    public bool IsReady => IsPlaced && !IsRunning && Pending.Count > 0;

    public bool IsIdle => !IsRunning && Pending.Count == 0;
}
