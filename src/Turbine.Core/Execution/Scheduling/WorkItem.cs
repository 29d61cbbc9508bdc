namespace Turbine.Core.Execution.Scheduling;

/// <summary>
/// One queued request and the promise its caller awaits. It is also a node of the intrusive list of its priority
/// level, so queueing and removing it on cancellation allocate nothing.
/// </summary>
internal sealed class WorkItem(InferenceRequest request, ValidatedRequest validated, long enqueuedAt, CancellationToken cancellationToken)
{
    public InferenceRequest Request { get; } = request;

    public ValidatedRequest Validated { get; } = validated;

    public long EnqueuedAt { get; } = enqueuedAt;

    public CancellationToken CancellationToken { get; } = cancellationToken;

    /// <summary>The runner whose queue holds the item; the cancellation callback goes back to it.</summary>
    public required ModelVersionRunner Runner { get; init; }

    public TaskCompletionSource<InferenceResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Index of the priority level's queue (0 holds priority 1, the highest).</summary>
    public int Level { get; init; }

    public RequestLane Lane { get; init; }

    /// <summary>The trace of the request this item serves, when it is traced: the worker records its queue and execute spans under it.</summary>
    public QueuedTrace Trace { get; init; }

    /// <summary>The timestamp after which the queue policy counts the request as expired; <see cref="long.MaxValue"/> when never.</summary>
    public long ExpiresAt { get; init; } = long.MaxValue;

    /// <summary>The timestamp by which the latency target wants the answer; <see cref="long.MaxValue"/> without a target.</summary>
    public long AnswerBy { get; init; } = long.MaxValue;

    /// <summary>Whether the request's outcome was recorded and handed on; only the worker that holds it sets this.</summary>
    public bool IsAnswered { get; set; }

    /// <summary>Whether the request, taken into a gathering batch, still counts against the queue bounds (under the queue's lock).</summary>
    internal bool IsHeld { get; set; }

    /// <summary>The order in which the scheduler took the request; responses follow it when ordering is preserved.</summary>
    public long Sequence { get; set; }

    /// <summary>The callback that answers the caller as soon as it gives up while the request is still queued.</summary>
    public CancellationTokenRegistration Cancellation { get; set; }

    // Intrusive list links, owned by RequestQueue under its lock.
    internal WorkItemList? List { get; set; }

    internal WorkItem? Previous { get; set; }

    internal WorkItem? Next { get; set; }
}
