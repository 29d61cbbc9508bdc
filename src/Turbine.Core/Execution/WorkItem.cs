namespace Turbine.Core.Execution;

/// <summary>One queued request and the promise its caller awaits.</summary>
internal sealed class WorkItem(InferenceRequest request, ValidatedRequest validated, long enqueuedAt, long expiresAt, CancellationToken cancellationToken)
{
    public InferenceRequest Request { get; } = request;

    public ValidatedRequest Validated { get; } = validated;

    public long EnqueuedAt { get; } = enqueuedAt;

    /// <summary>The timestamp after which the request must not start; <see cref="long.MaxValue"/> when it has no timeout.</summary>
    public long ExpiresAt { get; } = expiresAt;

    public CancellationToken CancellationToken { get; } = cancellationToken;

    public TaskCompletionSource<InferenceResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
