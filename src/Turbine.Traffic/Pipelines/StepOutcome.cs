namespace Turbine.Traffic.Pipelines;

/// <summary>What a pipeline step produced (tensors named as the pipeline's, owned by the pipeline from here on), or why it failed.</summary>
internal sealed record StepOutcome(IReadOnlyList<Tensor> Outputs, InferenceError? Error) : IDisposable
{
    public void Dispose()
    {
        foreach (var tensor in Outputs)
        {
            tensor.Dispose();
        }
    }
}
