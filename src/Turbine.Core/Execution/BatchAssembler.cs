using System.Buffers.Binary;
using Turbine.Core.Execution.Scheduling;

namespace Turbine.Core.Execution;

/// <summary>
/// Joins queued requests into one batch along dimension 0 and splits the model's outputs back per request.
/// Requests join only when every input agrees on all non-batch dimensions and they ask for the same outputs.
/// </summary>
internal static class BatchAssembler
{
    public static bool CanJoin(ValidatedRequest first, ValidatedRequest next)
    {
        if (first.Outputs.Length != next.Outputs.Length)
        {
            return false;
        }

        for (var i = 0; i < first.Outputs.Length; i++)
        {
            if (!ReferenceEquals(first.Outputs[i], next.Outputs[i]))
            {
                return false;
            }
        }

        for (var i = 0; i < first.Inputs.Length; i++)
        {
            if (!first.Inputs[i].Shape.AsSpan(1).SequenceEqual(next.Inputs[i].Shape.AsSpan(1)))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>One contiguous tensor per input holding every request's rows in order.</summary>
    public static Tensor[] Concatenate(List<WorkItem> batch, long rows)
    {
        var first = batch[0].Validated.Inputs;
        var inputs = new Tensor[first.Length];
        for (var i = 0; i < first.Length; i++)
        {
            var bytes = 0;
            foreach (var item in batch)
            {
                bytes += item.Validated.Inputs[i].Data.Length;
            }

            var buffer = TensorBuffer.Rent(bytes);
            var destination = buffer.Span;
            foreach (var item in batch)
            {
                var source = item.Validated.Inputs[i].Data.Span;
                source.CopyTo(destination);
                destination = destination[source.Length..];
            }

            long[] shape = [rows, .. first[i].Shape.AsSpan(1)];
            inputs[i] = new Tensor(first[i].Name, first[i].DataType, shape, buffer);
        }

        return inputs;
    }

    /// <summary>Slices each batched output into per-request tensors; <paramref name="perRequest"/>[k] receives request k's outputs.</summary>
    public static InferenceError? Split(List<Tensor> outputs, List<WorkItem> batch, long rows, List<Tensor>[] perRequest)
    {
        foreach (var output in outputs)
        {
            if (output.Shape.Length == 0 || output.Shape[0] != rows)
            {
                return InferenceError.Internal($"output '{output.Name}' has shape {Shapes.Format(output.Shape)}; a batch of {rows} rows cannot be split from it");
            }

            ReadOnlySpan<byte> data = output.Data.Span;
            var elementsPerRow = output.ElementCount / rows;
            for (var k = 0; k < batch.Count; k++)
            {
                var itemRows = batch[k].Validated.BatchSize;
                var length = output.DataType == DataType.Bytes
                    ? StringBytesLength(data, elementsPerRow * itemRows)
                    : (int)(elementsPerRow * itemRows * output.DataType.ElementSize());
                long[] shape = [itemRows, .. output.Shape.AsSpan(1)];
                perRequest[k].Add(new Tensor(output.Name, output.DataType, shape, TensorBuffer.CopyOf(data[..length])));
                data = data[length..];
            }
        }

        return null;
    }

    /// <summary>Bytes taken by the next <paramref name="elements"/> length-prefixed BYTES elements.</summary>
    internal static int StringBytesLength(ReadOnlySpan<byte> data, long elements)
    {
        var offset = 0;
        for (var e = 0; e < elements; e++)
        {
            offset += 4 + BinaryPrimitives.ReadInt32LittleEndian(data[offset..]);
        }

        return offset;
    }
}
