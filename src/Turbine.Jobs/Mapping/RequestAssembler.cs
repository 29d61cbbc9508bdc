using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Turbine.Jobs.Mapping;

/// <summary>
/// Joins mapped rows of one shape into one request on the background lane, and cuts each response back into the rows
/// it answers, as managed arrays that outlive the response's pooled buffers.
/// </summary>
internal static class RequestAssembler
{
    /// <summary>A request over <paramref name="rows"/>, which all fit the first (<see cref="MappedRow.Fits"/>).</summary>
    public static InferenceRequest Build(string model, string? version, RowMapper mapper, IReadOnlyList<MappedRow> rows, IReadOnlyList<string> outputs)
    {
        var request = new InferenceRequest { ModelName = model, ModelVersion = version, Lane = RequestLane.Background };
        var batch = 0L;
        foreach (var row in rows)
        {
            batch += row.Batch;
        }

        var inputs = mapper.Inputs;
        for (var i = 0; i < inputs.Count; i++)
        {
            var total = 0;
            foreach (var row in rows)
            {
                total = checked(total + row.Inputs![i].Length);
            }

            var buffer = TensorBuffer.Rent(total);
            var span = buffer.Span;
            foreach (var row in rows)
            {
                row.Inputs![i].CopyTo(span);
                span = span[row.Inputs[i].Length..];
            }

            long[] shape = mapper.Batched ? [batch, .. rows[0].Shapes![i]] : rows[0].Shapes![i];
            request.Inputs.Add(new Tensor(inputs[i].Name, inputs[i].Type, shape, buffer));
        }

        foreach (var output in outputs)
        {
            request.Outputs.Add(new RequestedOutput(output));
        }

        return request;
    }

    /// <summary>
    /// Each row's share of the outputs: a batched model's outputs are cut along their first dimension by each row's
    /// batch; a model that does not batch answers its one row whole.
    /// </summary>
    public static ScoredRow[] Split(InferenceResponse response, IReadOnlyList<MappedRow> rows, bool batched, bool keepBatchDimension, int attempts)
    {
        var perRow = new List<RowOutput>[rows.Count];
        for (var r = 0; r < rows.Count; r++)
        {
            perRow[r] = new List<RowOutput>(response.Outputs.Count);
        }

        foreach (var output in response.Outputs)
        {
            var elements = output.ElementCount;
            var batch = batched && output.Shape.Length > 0 ? output.Shape[0] : 1;
            var each = batch == 0 ? 0 : elements / batch;
            var offsets = output.DataType == DataType.Bytes ? StringOffsets(output) : null;
            var start = 0L;
            for (var r = 0; r < rows.Count; r++)
            {
                var rowBatch = batched ? rows[r].Batch : 1;
                var count = batched ? rowBatch * each : elements;
                long[] shape = !batched ? output.Shape : keepBatchDimension ? [rowBatch, .. output.Shape[1..]] : output.Shape[1..];
                perRow[r].Add(new RowOutput(output.Name, output.DataType, shape, Values(output, offsets, (int)start, (int)count)));
                start += count;
            }
        }

        var scored = new ScoredRow[rows.Count];
        for (var r = 0; r < rows.Count; r++)
        {
            scored[r] = new ScoredRow(rows[r].Number, rows[r].Keys, perRow[r], null, attempts);
        }

        return scored;
    }

    private static Array Values(Tensor tensor, string[]? strings, int start, int count)
    {
        ReadOnlySpan<byte> data = tensor.Data.Span;
        return tensor.DataType switch
        {
            DataType.Bytes => strings.AsSpan(start, count).ToArray(),
            DataType.Bool => Widen<byte, bool>(data, start, count, v => v != 0),
            DataType.UInt8 => Widen<byte, long>(data, start, count, v => v),
            DataType.Int8 => Widen<sbyte, long>(data, start, count, v => v),
            DataType.UInt16 => Widen<ushort, long>(data, start, count, v => v),
            DataType.Int16 => Widen<short, long>(data, start, count, v => v),
            DataType.UInt32 => Widen<uint, long>(data, start, count, v => v),
            DataType.Int32 => Widen<int, long>(data, start, count, v => v),
            DataType.Int64 => MemoryMarshal.Cast<byte, long>(data).Slice(start, count).ToArray(),
            DataType.UInt64 => MemoryMarshal.Cast<byte, ulong>(data).Slice(start, count).ToArray(),
            DataType.Fp16 => Widen<Half, float>(data, start, count, v => (float)v),
            DataType.Bf16 => Widen<ushort, float>(data, start, count, BFloat16Bits.ToSingle),
            DataType.Fp64 => MemoryMarshal.Cast<byte, double>(data).Slice(start, count).ToArray(),
            _ => MemoryMarshal.Cast<byte, float>(data).Slice(start, count).ToArray(),
        };
    }

    private static TTo[] Widen<TFrom, TTo>(ReadOnlySpan<byte> data, int start, int count, Func<TFrom, TTo> widen)
        where TFrom : unmanaged
    {
        var values = MemoryMarshal.Cast<byte, TFrom>(data).Slice(start, count);
        var result = new TTo[count];
        for (var i = 0; i < count; i++)
        {
            result[i] = widen(values[i]);
        }

        return result;
    }

    /// <summary>Every element of a BYTES tensor as text (invalid UTF-8 replaced).</summary>
    private static string[] StringOffsets(Tensor tensor)
    {
        var strings = new string[tensor.ElementCount];
        ReadOnlySpan<byte> data = tensor.Data.Span;
        for (var i = 0; i < strings.Length; i++)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(data);
            strings[i] = Encoding.UTF8.GetString(data.Slice(4, length));
            data = data[(4 + length)..];
        }

        return strings;
    }
}
