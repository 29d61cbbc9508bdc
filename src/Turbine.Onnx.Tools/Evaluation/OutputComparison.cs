using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Turbine.Onnx.Tools.Evaluation;

/// <summary>
/// How far a candidate's outputs are from the original's on the same inputs. Float outputs give the absolute
/// differences, the relative L2 error, and per row (what one input row produced) the top-1 agreement and the cosine similarity;
/// integer outputs (class ids) give the share of equal values, counted as top-1 agreement.
/// </summary>
/// <param name="MaxAbsolute">The largest absolute difference of a float output value.</param>
/// <param name="MeanAbsolute">The mean absolute difference of float output values.</param>
/// <param name="RelativeL2">||candidate - original|| / ||original|| over float output values.</param>
/// <param name="Top1Agreement">The share of rows with the same top class (float rows wider than one) or of equal integer values; null when no output has either.</param>
/// <param name="Cosine">The mean cosine similarity of float rows; null when no float output has rows wider than one.</param>
public sealed record OutputComparison(double MaxAbsolute, double MeanAbsolute, double RelativeL2, double? Top1Agreement, double? Cosine)
{
    /// <summary>Compares every output of two runs on the same batch (the same output names, in the same order).</summary>
    public static OutputComparison Compare(IReadOnlyList<IReadOnlyList<OrtValue>> originals, IReadOnlyList<IReadOnlyList<OrtValue>> candidates)
    {
        ArgumentNullException.ThrowIfNull(originals);
        ArgumentNullException.ThrowIfNull(candidates);
        var sums = new Sums();
        for (var run = 0; run < originals.Count; run++)
        {
            for (var output = 0; output < originals[run].Count; output++)
            {
                sums.Add(originals[run][output], candidates[run][output]);
            }
        }

        return sums.ToComparison();
    }

    /// <summary>The accuracy drop under a metric: relative L2, 1 - top-1 agreement, or 1 - cosine.</summary>
    public double Drop(AccuracyMetric metric) => metric switch
    {
        AccuracyMetric.Top1 => 1 - (Top1Agreement ?? 0),
        AccuracyMetric.Cosine => 1 - (Cosine ?? 0),
        _ => RelativeL2,
    };

    private sealed class Sums
    {
        private double _maxAbsolute;
        private double _absolute;
        private double _squaredError;
        private double _squaredOriginal;
        private long _floats;
        private long _agreeing;
        private long _compared;
        private double _cosines;
        private long _rows;

        public void Add(OrtValue original, OrtValue candidate)
        {
            var info = original.GetTensorTypeAndShape();
            var expected = AsDoubles(original, info.ElementDataType);
            var actual = AsDoubles(candidate, candidate.GetTensorTypeAndShape().ElementDataType);
            if (expected.Length != actual.Length)
            {
                throw new InferenceException($"an output has {actual.Length} values where the original has {expected.Length}");
            }

            if (info.ElementDataType is not (TensorElementType.Float or TensorElementType.Double or TensorElementType.Float16))
            {
                _compared += expected.Length;
                _agreeing += expected.Zip(actual).Count(pair => pair.First == pair.Second);
                return;
            }

            for (var i = 0; i < expected.Length; i++)
            {
                var difference = Math.Abs(actual[i] - expected[i]);
                _maxAbsolute = Math.Max(_maxAbsolute, difference);
                _absolute += difference;
                _squaredError += difference * difference;
                _squaredOriginal += expected[i] * expected[i];
            }

            _floats += expected.Length;
            // A row is everything one input row produced (the first dimension is the batch): a classifier's logits, a
            // feature map, a sentence's token embeddings.
            var shape = info.Shape;
            var width = shape.Length == 0 || shape[0] == 0 ? 1 : (int)(expected.Length / shape[0]);
            if (width > 1)
            {
                AddRows(expected, actual, width);
            }
        }

        private void AddRows(double[] expected, double[] actual, int width)
        {
            for (var start = 0; start + width <= expected.Length; start += width)
            {
                var e = expected.AsSpan(start, width);
                var a = actual.AsSpan(start, width);
                _compared++;
                _agreeing += ArgMax(e) == ArgMax(a) ? 1 : 0;
                var dot = 0.0;
                var ee = 0.0;
                var aa = 0.0;
                for (var i = 0; i < width; i++)
                {
                    dot += e[i] * a[i];
                    ee += e[i] * e[i];
                    aa += a[i] * a[i];
                }

                _cosines += ee == 0 && aa == 0 ? 1 : dot / Math.Sqrt(ee * aa);
                _rows++;
            }
        }

        public OutputComparison ToComparison() => new(
            _maxAbsolute,
            _floats == 0 ? 0 : _absolute / _floats,
            _squaredOriginal == 0 ? Math.Sqrt(_squaredError) : Math.Sqrt(_squaredError / _squaredOriginal),
            _compared == 0 ? null : (double)_agreeing / _compared,
            _rows == 0 ? null : _cosines / _rows);

        private static int ArgMax(ReadOnlySpan<double> values)
        {
            var best = 0;
            for (var i = 1; i < values.Length; i++)
            {
                best = values[i] > values[best] ? i : best;
            }

            return best;
        }

        private static double[] AsDoubles(OrtValue value, TensorElementType type) => type switch
        {
            TensorElementType.Float => [.. value.GetTensorDataAsSpan<float>().ToArray().Select(v => (double)v)],
            TensorElementType.Double => value.GetTensorDataAsSpan<double>().ToArray(),
            TensorElementType.Float16 => [.. value.GetTensorDataAsSpan<Float16>().ToArray().Select(v => (double)(float)v)],
            TensorElementType.Int64 => [.. value.GetTensorDataAsSpan<long>().ToArray().Select(v => (double)v)],
            TensorElementType.Int32 => [.. value.GetTensorDataAsSpan<int>().ToArray().Select(v => (double)v)],
            TensorElementType.UInt8 => [.. value.GetTensorDataAsSpan<byte>().ToArray().Select(v => (double)v)],
            TensorElementType.Int8 => [.. value.GetTensorDataAsSpan<sbyte>().ToArray().Select(v => (double)v)],
            TensorElementType.Bool => [.. value.GetTensorDataAsSpan<bool>().ToArray().Select(v => v ? 1.0 : 0.0)],
            _ => throw new InferenceException($"outputs of type {type} cannot be compared"),
        };
    }
}

/// <summary>What "accuracy drop" means for a model.</summary>
public enum AccuracyMetric
{
    /// <summary>The relative L2 error of the float outputs (regressors, logits, embeddings before normalisation).</summary>
    RelativeL2,

    /// <summary>1 - the top-1 agreement (classifiers: their class ids or their logits' arg max).</summary>
    Top1,

    /// <summary>1 - the mean cosine similarity per row (embeddings).</summary>
    Cosine,
}

/// <summary>Choosing the accuracy metric for a model when the user does not.</summary>
public static class AccuracyMetrics
{
    /// <summary>Top-1 for a model that answers class ids (an integer output), else the relative L2 of its values.</summary>
    public static AccuracyMetric For(ModelSignature signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        return signature.Outputs.Any(o => o.DataType is DataType.Int64 or DataType.Int32) ? AccuracyMetric.Top1 : AccuracyMetric.RelativeL2;
    }
}
