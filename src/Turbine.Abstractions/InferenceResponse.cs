namespace Turbine;

/// <summary>The result of one inference. Owns its output tensors.</summary>
public sealed class InferenceResponse : IDisposable
{
    /// <summary>The model that answered.</summary>
    public required string ModelName { get; init; }

    /// <summary>The version that answered.</summary>
    public required string ModelVersion { get; init; }

    /// <summary>The request id, echoed.</summary>
    public string? Id { get; init; }

    /// <summary>The output tensors, in the order requested (or the model's order).</summary>
    public List<Tensor> Outputs { get; } = [];

    /// <summary>For each output, whether it goes back in binary form (REST binary extension).</summary>
    public List<bool> OutputBinary { get; } = [];

    /// <summary>Response parameters.</summary>
    public Dictionary<string, object>? Parameters { get; set; }

    /// <summary>
    /// The model execution time this request accounts for: its rows' share of each batch it ran in (a pipeline's, its
    /// steps' together); zero for an answer from the cache. Cost attribution splits the process's CPU time by it.
    /// </summary>
    public long ComputeNanoseconds { get; set; }

    /// <summary>Releases the output tensors.</summary>
    public void Dispose()
    {
        foreach (var output in Outputs)
        {
            output.Dispose();
        }

        Outputs.Clear();
    }
}
