namespace Turbine.Core.Execution.Sequences;

/// <summary>One request of a sequence, waiting for its turn or running, and the promise its caller awaits.</summary>
internal sealed class SequenceWork(InferenceRequest request, ValidatedRequest validated, SequenceStep step, long enqueuedAt)
{
    public InferenceRequest Request { get; } = request;

    public ValidatedRequest Validated { get; } = validated;

    public SequenceStep Step { get; } = step;

    public long EnqueuedAt { get; } = enqueuedAt;

    public TaskCompletionSource<InferenceResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
