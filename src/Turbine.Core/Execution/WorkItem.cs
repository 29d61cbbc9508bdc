namespace Turbine.Core.Execution;

/// <summary>One queued request and the promise its caller awaits.</summary>
internal sealed class WorkItem(InferenceRequest request, ValidatedRequest validated, long enqueuedAt, CancellationToken cancellationToken)
{
    public InferenceRequest Request { get; } = request;

    public ValidatedRequest Validated { get; } = validated;

    public long EnqueuedAt { get; } = enqueuedAt;

    public CancellationToken CancellationToken { get; } = cancellationToken;

    public TaskCompletionSource<InferenceResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
