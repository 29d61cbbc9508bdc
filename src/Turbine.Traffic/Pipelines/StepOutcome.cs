namespace Turbine.Traffic.Pipelines;

/// <summary>
/// What a pipeline step produced (tensors named as the pipeline's, owned by the pipeline from here on), or why it
/// failed, and the model execution time it accounts for (cost attribution adds its steps' up).
/// </summary>
internal sealed record StepOutcome(IReadOnlyList<Tensor> Outputs, InferenceError? Error, long ComputeNanoseconds = 0) : IDisposable
{
    public void Dispose()
    {
        foreach (var tensor in Outputs)
        {
            tensor.Dispose();
        }
    }
}
