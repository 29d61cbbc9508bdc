using Turbine.Core.Execution;

namespace Turbine.Custom;

/// <summary>
/// Checks what a custom model answered against its configuration before a client sees it: every output the request
/// asked for (all of them by default) must be there once, with the configured data type, a shape its dims allow (the
/// request's batch first, when the model batches) and as many bytes as the shape needs. Outputs not asked for are
/// dropped. A model's mistake is its request's 500 with the reason, never a malformed response.
/// </summary>
internal static class CustomOutputs
{
    public static InferenceError? Check(ModelConfig config, ValidatedRequest validated, IReadOnlyList<Tensor>? produced, out List<Tensor>? answered)
    {
        answered = null;
        if (produced is null)
        {
            return Wrong(config, "returned no outputs (null)");
        }

        var result = new List<Tensor>(validated.Outputs.Length);
        foreach (var wanted in validated.Outputs)
        {
            Tensor? found = null;
            foreach (var tensor in produced)
            {
                if (tensor?.Name == wanted.Name)
                {
                    if (found is not null)
                    {
                        return Wrong(config, $"returned output '{wanted.Name}' twice");
                    }

                    found = tensor;
                }
            }

            if (found is null)
            {
                return Wrong(config, $"did not return output '{wanted.Name}'");
            }

            if (Mismatch(config, wanted, found, validated.BatchSize) is { } mismatch)
            {
                return Wrong(config, $"returned output '{wanted.Name}' {mismatch}");
            }

            result.Add(found);
        }

        foreach (var tensor in produced)
        {
            if (tensor is not null && !result.Contains(tensor))
            {
                tensor.Dispose(); // computed but not asked for
            }
        }

        answered = result;
        return null;
    }

    private static string? Mismatch(ModelConfig config, TensorConfig wanted, Tensor tensor, long batchSize)
    {
        if (tensor.DataType != wanted.DataType)
        {
            return $"as {tensor.DataType.ToWireName()}; the configuration says {wanted.DataType.ToWireName()}";
        }

        var batching = config.MaxBatchSize > 0;
        var dims = wanted.Dims;
        var shape = tensor.Shape;
        var expected = batching ? Shapes.Format([batchSize, .. dims]) : Shapes.Format(dims);
        if (shape.Length != dims.Length + (batching ? 1 : 0) || (batching && shape[0] != batchSize))
        {
            return $"with shape {Shapes.Format(shape)}; the configuration allows {expected}";
        }

        var offset = batching ? 1 : 0;
        for (var i = 0; i < dims.Length; i++)
        {
            if (shape[offset + i] < 0 || (dims[i] >= 0 && shape[offset + i] != dims[i]))
            {
                return $"with shape {Shapes.Format(shape)}; the configuration allows {expected}";
            }
        }

        if (tensor.DataType != DataType.Bytes && Shapes.TryGetElementCount(shape, out var count) && count * tensor.DataType.ElementSize() != tensor.Data.Length)
        {
            return $"with {tensor.Data.Length} bytes of data; its shape {Shapes.Format(shape)} needs {count * tensor.DataType.ElementSize()}";
        }

        return null;
    }

    private static InferenceError Wrong(ModelConfig config, string what) => InferenceError.Internal($"the custom model '{config.Name}' {what}");
}
