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

    /// <summary>Answers the caller as soon as it gives up; the worker drops the item when it reaches it.</summary>
    public CancellationTokenRegistration Cancellation { get; private set; }

    public void AnswerOnCancellation() =>
        Cancellation = CancellationToken.Register(
            static state => ((WorkItem)state!).Completion.TrySetResult(InferenceResult.Failed(StatusCode.Cancelled, "the request was cancelled while queued")),
            this);
}
