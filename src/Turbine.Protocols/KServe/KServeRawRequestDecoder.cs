using System.Buffers.Binary;

namespace Turbine.Protocols.KServe;

/// <summary>
/// Decodes a raw binary request of the binary tensor extension (<c>Inference-Header-Content-Length: 0</c>): no JSON
/// header, the whole body is the data of the model's one input, whose shape is deduced from the model's config
/// (batch 1 when the model batches, the one variable dimension from the body's size; BYTES only as one element of
/// shape <c>[1]</c>). Every output comes back binary. Errors are worded as Triton words them.
/// </summary>
public static class KServeRawRequestDecoder
{
    /// <summary>Decodes <paramref name="body"/> as the data of <paramref name="model"/>'s single input.</summary>
    public static InferenceError? Decode(
        ReadOnlySpan<byte> body, ModelConfig model, string modelName, string? modelVersion, KServeLimits limits, out InferenceRequest? request)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(limits);
        request = null;
        if (model.Inputs.Count != 1)
        {
            return InferenceError.Invalid(
                $"Raw request must only have 1 input (found 1) to be deduced but got {model.Inputs.Count} inputs in '{ClientText.Quote(modelName)}' model configuration");
        }

        var input = model.Inputs[0];
        if (body.Length > limits.MaxTensorBytes)
        {
            return InferenceError.Invalid($"input '{input.Name}' is {body.Length} bytes; the limit is {limits.MaxTensorBytes}");
        }

        var error = DeduceShape(body.Length, model, input, out var shape);
        if (error is not null)
        {
            return error;
        }

        request = new InferenceRequest { ModelName = modelName, ModelVersion = modelVersion, BinaryDataOutputByDefault = true };
        request.Inputs.Add(new Tensor(input.Name, input.DataType, shape!, input.DataType == DataType.Bytes ? OneString(body) : TensorBuffer.CopyOf(body)));
        return null;
    }

    private static InferenceError? DeduceShape(int byteSize, ModelConfig model, TensorConfig input, out long[]? shape)
    {
        shape = null;
        var dims = new List<long>(input.Dims.Length + 1);
        if (model.MaxBatchSize > 0)
        {
            dims.Add(1);
        }

        var variableAxis = -1;
        long fixedElements = 1;
        foreach (var dim in input.Dims)
        {
            if (dim < 0)
            {
                if (variableAxis >= 0)
                {
                    return InferenceError.Invalid(
                        $"The shape of the raw input '{input.Name}' can not be deduced because there are more than one variable-sized dimension");
                }

                variableAxis = dims.Count;
            }
            else
            {
                fixedElements = checked(fixedElements * dim);
            }

            dims.Add(dim);
        }

        if (input.DataType == DataType.Bytes)
        {
            if (variableAxis >= 0 || fixedElements != 1)
            {
                return InferenceError.Invalid("For BYTE datatype raw input, the model must have input shape [1]");
            }

            shape = [.. dims];
            return null;
        }

        var elementSize = input.DataType.ElementSize();
        if (variableAxis >= 0)
        {
            dims[variableAxis] = fixedElements == 0 ? 0 : byteSize / elementSize / fixedElements;
        }

        shape = [.. dims];
        var expected = Shapes.TryGetElementCount(shape, out var count) ? count * elementSize : -1;
        return expected == byteSize
            ? null
            : InferenceError.Invalid($"unexpected total byte size {byteSize} for input '{input.Name}', expecting {expected}");
    }

    /// <summary>A BYTES tensor of one element: the body, after the 4-byte length that BYTES elements carry.</summary>
    private static TensorBuffer OneString(ReadOnlySpan<byte> body)
    {
        var buffer = TensorBuffer.Rent(sizeof(uint) + body.Length);
        var span = buffer.Span;
        BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)body.Length);
        body.CopyTo(span[sizeof(uint)..]);
        return buffer;
    }
}
