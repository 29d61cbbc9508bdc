using System.Buffers.Binary;

namespace Turbine.Core.Execution;

/// <summary>A request checked against its model: inputs in the model's order, outputs resolved.</summary>
/// <param name="Inputs">The inputs, in the order of the model's configuration (null where an optional input was left out).</param>
/// <param name="Outputs">The outputs to answer with.</param>
/// <param name="OutputBinary">For each output, whether the client asked for it as binary data.</param>
/// <param name="BatchSize">Rows along the batch dimension (1 when the model does not batch).</param>
public sealed record ValidatedRequest(Tensor[] Inputs, TensorConfig[] Outputs, bool[] OutputBinary, long BatchSize);

/// <summary>
/// Checks a request against a model's configuration: input names, data types, shapes, batch size, byte sizes
/// and requested outputs. Messages follow Triton's wording where Triton has one, since clients match on them.
/// </summary>
internal static class InferenceRequestValidator
{
    public static InferenceError? Validate(ModelConfig config, InferenceRequest request, out ValidatedRequest? validated)
    {
        validated = null;
        var inputs = new Tensor[config.Inputs.Count];
        long batchSize = 1;
        foreach (var tensor in request.Inputs)
        {
            var index = IndexOf(config.Inputs, tensor.Name);
            if (index < 0)
            {
                return InferenceError.Invalid($"unexpected inference input '{tensor.Name}' for model '{config.Name}'");
            }

            if (inputs[index] is not null)
            {
                return InferenceError.Invalid($"input '{tensor.Name}' appears more than once in the request for model '{config.Name}'");
            }

            var error = ValidateInput(config, config.Inputs[index], tensor, ref batchSize);
            if (error is not null)
            {
                return error;
            }

            inputs[index] = tensor;
        }

        if (request.Inputs.Count != inputs.Length && MissingNames(config, inputs).Length > 0)
        {
            return InferenceError.Invalid(
                $"expected {inputs.Length} inputs but got {request.Inputs.Count} inputs for model '{config.Name}'; missing input(s) {MissingNames(config, inputs)}");
        }

        var outputError = ResolveOutputs(config, request, out var outputs, out var binary);
        if (outputError is not null)
        {
            return outputError;
        }

        validated = new ValidatedRequest(inputs, outputs!, binary!, batchSize);
        return null;
    }

    /// <summary>
    /// The checks that need only an input's name, type and shape, made by the protocol decoders before they decode
    /// or copy its data (<see cref="InputSpecCheck"/>), so a tensor that cannot fit the model costs nothing to refuse.
    /// </summary>
    public static InferenceError? CheckSpec(ModelConfig config, string name, DataType dataType, long[] shape)
    {
        var index = IndexOf(config.Inputs, name);
        if (index < 0)
        {
            return InferenceError.Invalid($"unexpected inference input '{name}' for model '{config.Name}'");
        }

        long batchSize = 1;
        return CheckSpec(config, config.Inputs[index], name, dataType, shape, ref batchSize);
    }

    private static InferenceError? ValidateInput(ModelConfig config, TensorConfig expected, Tensor tensor, ref long batchSize)
    {
        var error = CheckSpec(config, expected, tensor.Name, tensor.DataType, tensor.Shape, ref batchSize);
        if (error is not null)
        {
            return error;
        }

        Shapes.TryGetElementCount(tensor.Shape, out var elements); // checked by CheckSpec
        return tensor.DataType == DataType.Bytes
            ? ValidateStrings(tensor, elements)
            : ValidateByteSize(tensor, elements);
    }

    private static InferenceError? CheckSpec(ModelConfig config, TensorConfig expected, string name, DataType dataType, long[] shape, ref long batchSize)
    {
        if (dataType != expected.DataType)
        {
            return InferenceError.Invalid(
                $"inference input '{name}' data-type is '{dataType.ToWireName()}', but model '{config.Name}' expects '{expected.DataType.ToWireName()}'");
        }

        var full = config.FullShape(expected);
        if (!ShapeMatches(full, shape))
        {
            return InferenceError.Invalid(
                $"unexpected shape for input '{name}' for model '{config.Name}'. Expected {Shapes.Format(full)}, got {Shapes.Format(shape)}");
        }

        if (config.MaxBatchSize > 0)
        {
            if (shape[0] < 1 || shape[0] > config.MaxBatchSize)
            {
                return InferenceError.Invalid(
                    $"inference request batch-size must be <= {config.MaxBatchSize} for '{config.Name}', got {shape[0]}");
            }

            if (batchSize != 1 && shape[0] != batchSize)
            {
                return InferenceError.Invalid($"input '{name}' has batch size {shape[0]} but other inputs have {batchSize}; all inputs must agree");
            }

            batchSize = shape[0];
        }

        if (!Shapes.TryGetElementCount(shape, out var elements))
        {
            return InferenceError.Invalid($"input '{name}' has an invalid shape {Shapes.Format(shape)}");
        }

        if (expected.Reshape is { } reshape && Shapes.TryGetElementCount(reshape, out var reshapeCount) &&
            elements != reshapeCount * (config.MaxBatchSize > 0 ? shape[0] : 1))
        {
            return InferenceError.Invalid($"input '{name}' cannot be reshaped to {Shapes.Format(reshape)}");
        }

        return null;
    }

    private static InferenceError? ValidateByteSize(Tensor tensor, long elements)
    {
        var expectedBytes = elements * tensor.DataType.ElementSize(); // cannot overflow: the data is already in memory or the codec refused it
        return tensor.Data.Length == expectedBytes
            ? null
            : InferenceError.Invalid($"unexpected total byte size {tensor.Data.Length} for input '{tensor.Name}', expecting {expectedBytes}");
    }

    private static InferenceError? ValidateStrings(Tensor tensor, long expectedElements)
    {
        ReadOnlySpan<byte> span = tensor.Data.Span;
        long count = 0;
        while (span.Length > 0)
        {
            if (span.Length < 4)
            {
                return InferenceError.Invalid($"input '{tensor.Name}': BYTES data ends inside an element length prefix");
            }

            var length = BinaryPrimitives.ReadUInt32LittleEndian(span);
            if (length > (uint)(span.Length - 4))
            {
                return InferenceError.Invalid($"input '{tensor.Name}': BYTES element {count} claims {length} bytes but only {span.Length - 4} remain");
            }

            span = span[(4 + (int)length)..];
            count++;
        }

        return count == expectedElements
            ? null
            : InferenceError.Invalid($"expected {expectedElements} string elements for inference input '{tensor.Name}', got {count}");
    }

    private static bool ShapeMatches(long[] expected, long[] actual)
    {
        if (expected.Length != actual.Length)
        {
            return false;
        }

        for (var i = 0; i < expected.Length; i++)
        {
            if (actual[i] < 0 || (expected[i] != -1 && expected[i] != actual[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static InferenceError? ResolveOutputs(ModelConfig config, InferenceRequest request, out TensorConfig[]? outputs, out bool[]? binary)
    {
        outputs = null;
        binary = null;
        if (request.Outputs.Count == 0)
        {
            outputs = [.. config.Outputs];
            binary = new bool[outputs.Length];
            Array.Fill(binary, request.BinaryDataOutputByDefault);
            return null;
        }

        if (request.Outputs.Count > config.Outputs.Count)
        {
            return InferenceError.Invalid($"the request asks for {request.Outputs.Count} outputs but model '{config.Name}' has {config.Outputs.Count}");
        }

        outputs = new TensorConfig[request.Outputs.Count];
        binary = new bool[outputs.Length];
        for (var i = 0; i < outputs.Length; i++)
        {
            var requested = request.Outputs[i];
            var index = IndexOf(config.Outputs, requested.Name);
            if (index < 0)
            {
                return InferenceError.Invalid($"unexpected inference output '{requested.Name}' for model '{config.Name}'");
            }

            for (var j = 0; j < i; j++)
            {
                if (ReferenceEquals(outputs[j], config.Outputs[index]))
                {
                    return InferenceError.Invalid($"output '{requested.Name}' already requested");
                }
            }

            outputs[i] = config.Outputs[index];
            binary[i] = requested.BinaryData;
        }

        return null;
    }

    private static int IndexOf(IReadOnlyList<TensorConfig> tensors, string name)
    {
        for (var i = 0; i < tensors.Count; i++)
        {
            if (string.Equals(tensors[i].Name, name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    private static string MissingNames(ModelConfig config, Tensor[] inputs)
    {
        var missing = new List<string>();
        for (var i = 0; i < inputs.Length; i++)
        {
            if (inputs[i] is null && !config.Inputs[i].Optional)
            {
                missing.Add($"'{config.Inputs[i].Name}'");
            }
        }

        return string.Join(", ", missing);
    }
}
