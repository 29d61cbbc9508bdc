using System.Runtime.InteropServices;

namespace Turbine.Traffic.Pipelines;

/// <summary>The aggregations of <see cref="AggregateStep"/>: element-wise average and majority vote, over same-shaped tensors.</summary>
public static class TensorAggregation
{
    /// <summary>Combines <paramref name="inputs"/> into a new tensor called <paramref name="output"/>, or says why it cannot.</summary>
    public static InferenceError? Combine(AggregateMethod method, IReadOnlyList<Tensor> inputs, string output, out Tensor? result)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        result = null;
        var first = inputs[0];
        if (inputs.Any(t => t.DataType != first.DataType || !t.Shape.AsSpan().SequenceEqual(first.Shape)))
        {
            return InferenceError.Invalid($"the tensors aggregated into '{output}' differ in datatype or shape");
        }

        return (method, first.DataType) switch
        {
            (AggregateMethod.Average, DataType.Fp32) => Done(Average<float>(inputs, output), out result),
            (AggregateMethod.Average, DataType.Fp64) => Done(Average<double>(inputs, output), out result),
            (AggregateMethod.Vote, DataType.Fp32) => Done(VoteOnScores(inputs, Values<float>, output), out result),
            (AggregateMethod.Vote, DataType.Fp64) => Done(VoteOnScores(inputs, Values<double>, output), out result),
            (AggregateMethod.Vote, DataType.Int32) => Done(VoteOnLabels(inputs, Values<int>, output), out result),
            (AggregateMethod.Vote, DataType.Int64) => Done(VoteOnLabels(inputs, Values<long>, output), out result),
            _ => InferenceError.Invalid($"'{output}' cannot be the {(method == AggregateMethod.Average ? "average" : "vote")} of {first.DataType} tensors " +
                "(average takes FP32 or FP64; vote takes FP32 or FP64 scores, or INT32 or INT64 labels)"),
        };
    }

    private static InferenceError? Done(Tensor tensor, out Tensor? result)
    {
        result = tensor;
        return null;
    }

    private static Tensor Average<T>(IReadOnlyList<Tensor> inputs, string output)
        where T : unmanaged, System.Numerics.IFloatingPoint<T>
    {
        var sum = new double[MemoryMarshal.Cast<byte, T>(inputs[0].Data.Span).Length];
        foreach (var input in inputs)
        {
            var values = MemoryMarshal.Cast<byte, T>(input.Data.Span);
            for (var i = 0; i < sum.Length; i++)
            {
                sum[i] += double.CreateChecked(values[i]);
            }
        }

        var mean = new T[sum.Length];
        for (var i = 0; i < sum.Length; i++)
        {
            mean[i] = T.CreateChecked(sum[i] / inputs.Count);
        }

        return Tensor.FromArray<T>(output, [.. inputs[0].Shape], mean);
    }

    /// <summary>Each row's class is the argmax along the last axis; the majority class wins, a tie going to the larger summed score.</summary>
    private static Tensor VoteOnScores(IReadOnlyList<Tensor> inputs, Func<Tensor, double[]> values, string output)
    {
        var shape = inputs[0].Shape;
        var classes = (int)Math.Max(shape.Length == 0 ? 1 : shape[^1], 1);
        var scores = inputs.Select(values).ToArray();
        var rows = scores[0].Length / classes;
        var winners = new long[rows];
        var votes = new int[classes];
        var sums = new double[classes];
        for (var row = 0; row < rows; row++)
        {
            Array.Clear(votes);
            Array.Clear(sums);
            foreach (var score in scores)
            {
                var span = score.AsSpan(row * classes, classes);
                votes[ArgMax(span)]++;
                for (var c = 0; c < classes; c++)
                {
                    sums[c] += span[c];
                }
            }

            var best = 0;
            for (var c = 1; c < classes; c++)
            {
                best = votes[c] > votes[best] || (votes[c] == votes[best] && sums[c] > sums[best]) ? c : best;
            }

            winners[row] = best;
        }

        return Tensor.FromArray<long>(output, shape.Length <= 1 ? [1] : shape[..^1], winners);
    }

    /// <summary>Each element's majority label; a tie goes to the smaller label.</summary>
    private static Tensor VoteOnLabels(IReadOnlyList<Tensor> inputs, Func<Tensor, double[]> values, string output)
    {
        var labels = inputs.Select(values).ToArray();
        var winners = new long[labels[0].Length];
        for (var i = 0; i < winners.Length; i++)
        {
            winners[i] = (long)labels.Select(l => l[i]).GroupBy(l => l).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key;
        }

        return Tensor.FromArray<long>(output, [.. inputs[0].Shape], winners);
    }

    /// <summary>The lowest, over the rows, of each row's largest value along the last axis: how sure the least sure row is.</summary>
    public static double? Confidence(Tensor tensor) => RowConfidences(tensor) is { Length: > 0 } rows ? rows.Min() : null;

    /// <summary>
    /// Each row's largest value along the last axis (a rank-1 tensor holds one value per row); null unless the tensor is
    /// FP32 or FP64 with at least one row.
    /// </summary>
    public static double[]? RowConfidences(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        double[] values;
        switch (tensor.DataType)
        {
            case DataType.Fp32: values = Values<float>(tensor); break;
            case DataType.Fp64: values = Values<double>(tensor); break;
            default: return null;
        }

        var classes = (int)Math.Max(tensor.Shape.Length < 2 ? 1 : tensor.Shape[^1], 1);
        var rows = new double[values.Length / classes];
        for (var row = 0; row < rows.Length; row++)
        {
            var span = values.AsSpan(row * classes, classes);
            rows[row] = span[ArgMax(span)];
        }

        return rows.Length == 0 ? null : rows;
    }

    private static int ArgMax(ReadOnlySpan<double> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            best = values[i] > values[best] ? i : best;
        }

        return best;
    }

    private static double[] Values<T>(Tensor tensor)
        where T : unmanaged, System.Numerics.INumberBase<T>
    {
        var span = MemoryMarshal.Cast<byte, T>(tensor.Data.Span);
        var values = new double[span.Length];
        for (var i = 0; i < span.Length; i++)
        {
            values[i] = double.CreateChecked(span[i]);
        }

        return values;
    }
}
