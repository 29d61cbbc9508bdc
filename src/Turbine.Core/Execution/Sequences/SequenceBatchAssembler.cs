using System.Buffers.Binary;

namespace Turbine.Core.Execution.Sequences;

/// <summary>A row of a sequence batch: a sequence's next request.</summary>
internal readonly record struct SequenceRow(LiveSequence Sequence, SequenceWork Work);

/// <summary>
/// Builds the model's inputs for a batch of sequence rows (the clients' inputs, then the control and state tensors
/// the batcher fills) and takes each row's outputs and next state back out. A null row is an idle slot of a direct
/// batch: zeros for its inputs and READY false, and its outputs are dropped.
/// </summary>
internal static class SequenceBatchAssembler
{
    public static Tensor[] Inputs(ModelConfig config, IReadOnlyList<SequenceRow?> rows)
    {
        var sequences = config.SequenceBatching!;
        var template = First(rows).Work.Validated.Inputs;
        var inputs = new List<Tensor>(config.Inputs.Count + sequences.Controls.Count + sequences.States.Count);
        for (var i = 0; i < template.Length; i++)
        {
            inputs.Add(ClientInput(config, rows, i, template[i]));
        }

        foreach (var control in sequences.Controls)
        {
            inputs.Add(Control(config, rows, control));
        }

        foreach (var (state, index) in sequences.States.Select((state, index) => (state, index)))
        {
            inputs.Add(State(config, rows, state, index));
        }

        return [.. inputs];
    }

    /// <summary>Whether a request can share a batch with the template: every input has the same shape.</summary>
    public static bool CanJoin(ValidatedRequest template, ValidatedRequest next)
    {
        for (var i = 0; i < template.Inputs.Length; i++)
        {
            if (!template.Inputs[i].Shape.AsSpan().SequenceEqual(next.Inputs[i].Shape))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Hands each row its outputs (the ones its request asked for) into <paramref name="perRow"/> and keeps the rows'
    /// next states in their sequences.
    /// </summary>
    public static InferenceError? Split(ModelConfig config, List<Tensor> results, IReadOnlyList<SequenceRow?> rows, List<Tensor>[] perRow)
    {
        var batching = config.MaxBatchSize > 0;
        foreach (var output in results)
        {
            if (batching && (output.Shape.Length == 0 || output.Shape[0] != rows.Count))
            {
                return InferenceError.Internal($"output '{output.Name}' has shape {Shapes.Format(output.Shape)}; a batch of {rows.Count} rows cannot be split from it");
            }
        }

        var states = config.SequenceBatching!.States;
        for (var r = 0; r < rows.Count; r++)
        {
            if (rows[r] is not { } row)
            {
                continue;
            }

            foreach (var wanted in row.Work.Validated.Outputs)
            {
                var output = results.Find(result => result.Name == wanted.Name)!;
                long[] shape = batching ? [1, .. output.Shape.AsSpan(1)] : output.Shape;
                perRow[r].Add(new Tensor(output.Name, output.DataType, shape, TensorBuffer.CopyOf(RowOf(output, r, rows.Count, batching))));
            }

            var next = new byte[states.Count][];
            for (var s = 0; s < states.Count; s++)
            {
                var output = results.Find(result => result.Name == states[s].OutputName)!;
                var bytes = RowOf(output, r, rows.Count, batching);
                if (bytes.Length != states[s].RowBytes)
                {
                    return InferenceError.Internal($"state output '{output.Name}' gave {bytes.Length} bytes a row; the state holds {states[s].RowBytes}");
                }

                next[s] = bytes.ToArray();
            }

            row.Sequence.State = next;
        }

        return null;
    }

    private static SequenceRow First(IReadOnlyList<SequenceRow?> rows)
    {
        foreach (var row in rows)
        {
            if (row is { } taken)
            {
                return taken;
            }
        }

        throw new InvalidOperationException("a sequence batch holds at least one request");
    }

    private static Tensor ClientInput(ModelConfig config, IReadOnlyList<SequenceRow?> rows, int index, Tensor template)
    {
        // An idle slot's row: zeros as wide as a real row; BYTES elements of length zero.
        var fillerBytes = template.DataType == DataType.Bytes ? 4 * (int)template.ElementCount : template.Data.Length;
        var total = 0;
        foreach (var row in rows)
        {
            total += row is { } taken ? taken.Work.Validated.Inputs[index].Data.Length : fillerBytes;
        }

        var buffer = TensorBuffer.Rent(total);
        var destination = buffer.Span;
        foreach (var row in rows)
        {
            if (row is { } taken)
            {
                var source = taken.Work.Validated.Inputs[index].Data.Span;
                source.CopyTo(destination);
                destination = destination[source.Length..];
            }
            else
            {
                destination[..fillerBytes].Clear();
                destination = destination[fillerBytes..];
            }
        }

        long[] shape = config.MaxBatchSize > 0 ? [rows.Count, .. template.Shape.AsSpan(1)] : template.Shape;
        return new Tensor(template.Name, template.DataType, shape, buffer);
    }

    private static Tensor Control(ModelConfig config, IReadOnlyList<SequenceRow?> rows, SequenceControl control)
    {
        long[] shape = config.MaxBatchSize > 0 ? [rows.Count, 1] : [1];
        if (control.Kind == SequenceControlKind.CorrelationId && control.DataType == DataType.Bytes)
        {
            return Tensor.FromStrings(control.InputName, shape, [.. rows.Select(row => row?.Sequence.Id.ToString() ?? string.Empty)]);
        }

        var size = control.DataType.ElementSize();
        var buffer = TensorBuffer.Rent(size * rows.Count);
        for (var r = 0; r < rows.Count; r++)
        {
            var element = buffer.Span.Slice(r * size, size);
            if (control.Kind == SequenceControlKind.CorrelationId)
            {
                WriteInteger(element, control.DataType, rows[r]?.Sequence.Id.Number ?? 0);
                continue;
            }

            var on = rows[r] is { } row && control.Kind switch
            {
                SequenceControlKind.Start => row.Work.Step.Start,
                SequenceControlKind.End => row.Work.Step.End,
                _ => true, // READY: the row holds a request
            };
            WriteFlag(element, control.DataType, on ? control.TrueValue : control.FalseValue);
        }

        return new Tensor(control.InputName, control.DataType, shape, buffer);
    }

    private static Tensor State(ModelConfig config, IReadOnlyList<SequenceRow?> rows, SequenceState state, int index)
    {
        var rowBytes = state.RowBytes;
        var buffer = TensorBuffer.Rent(rowBytes * rows.Count);
        for (var r = 0; r < rows.Count; r++)
        {
            var destination = buffer.Span.Slice(r * rowBytes, rowBytes);
            // A sequence's first request (and a new START) begins from the initial state.
            var kept = rows[r] is { Work.Step.Start: false } row ? row.Sequence.State?[index] : null;
            var source = kept ?? state.InitialData;
            if (source is null)
            {
                destination.Clear();
            }
            else
            {
                source.CopyTo(destination);
            }
        }

        long[] shape = config.MaxBatchSize > 0 ? [rows.Count, .. state.Dims] : state.Dims;
        return new Tensor(state.InputName, state.DataType, shape, buffer);
    }

    private static void WriteFlag(Span<byte> element, DataType type, double value)
    {
        switch (type)
        {
            case DataType.Int32:
                BinaryPrimitives.WriteInt32LittleEndian(element, (int)value);
                break;
            case DataType.Fp32:
                BinaryPrimitives.WriteSingleLittleEndian(element, (float)value);
                break;
            default: // BOOL
                element[0] = value != 0 ? (byte)1 : (byte)0;
                break;
        }
    }

    private static void WriteInteger(Span<byte> element, DataType type, ulong value)
    {
        switch (type)
        {
            case DataType.UInt64 or DataType.Int64:
                BinaryPrimitives.WriteUInt64LittleEndian(element, value);
                break;
            default: // UINT32, INT32: the low 32 bits, as Triton truncates
                BinaryPrimitives.WriteUInt32LittleEndian(element, (uint)value);
                break;
        }
    }

    /// <summary>Row <paramref name="row"/> of a batched output; the whole output when the model does not batch.</summary>
    private static ReadOnlySpan<byte> RowOf(Tensor output, int row, int rows, bool batching)
    {
        ReadOnlySpan<byte> data = output.Data.Span;
        if (!batching)
        {
            return data;
        }

        if (output.DataType != DataType.Bytes)
        {
            var rowBytes = data.Length / rows;
            return data.Slice(row * rowBytes, rowBytes);
        }

        var perRow = output.ElementCount / rows;
        var start = BatchAssembler.StringBytesLength(data, perRow * row);
        return data.Slice(start, BatchAssembler.StringBytesLength(data[start..], perRow));
    }
}
