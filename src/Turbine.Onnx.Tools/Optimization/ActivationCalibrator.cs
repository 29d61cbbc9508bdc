using Microsoft.ML.OnnxRuntime;
using Onnx;
using Turbine.Onnx.Tools.Evaluation;

namespace Turbine.Onnx.Tools.Optimization;

/// <summary>How the range of an activation is chosen from the values calibration saw.</summary>
public enum CalibrationMethod
{
    /// <summary>The smallest and largest values seen: no value clips, and rare outliers stretch the scale.</summary>
    MinMax,

    /// <summary>The range that holds all but the outermost 0.001% of the magnitudes seen (clips outliers).</summary>
    Percentile,

    /// <summary>The clipping threshold whose 8-bit histogram is closest (least KL divergence) to the one seen, as TensorRT calibrates.</summary>
    Entropy,
}

/// <summary>
/// Runs calibration rows through a copy of the model that exposes the activations to be quantized as outputs, and
/// chooses each one's range by the calibration method. Histograms take a second pass over the rows, once the
/// largest magnitudes are known, so no activation is ever kept whole.
/// </summary>
internal static class ActivationCalibrator
{
    private const int Bins = 2048;
    private const int FirstThreshold = 128; // bins: the smallest clipping threshold entropy considers is 1/16 of the largest magnitude
    private const int BatchRows = 8;
    private const double PercentileKept = 0.99999;

    /// <returns>Each tensor's range, min at most 0 and max at least 0.</returns>
    public static Dictionary<string, (float Min, float Max)> Calibrate(ModelProto prepared, IReadOnlyCollection<string> tensors, SampleSet samples, CalibrationMethod method, string workFolder)
    {
        var exposed = prepared.Clone();
        var declared = exposed.Graph.Output.Select(output => output.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var name in tensors.Where(name => !declared.Contains(name)))
        {
            exposed.Graph.Output.Add(new ValueInfoProto
            {
                Name = name,
                Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } },
            });
        }

        var path = Path.Combine(workFolder, "calibration.onnx");
        OnnxModelEditor.Write(exposed, path);
        OnnxThreadBudget.EnsureEnvironment();
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var session = new InferenceSession(path, options);
        var names = tensors.ToArray();
        var ranges = names.ToDictionary(name => name, _ => (Min: 0f, Max: 0f), StringComparer.Ordinal);
        Visit(session, names, samples, (name, values) =>
        {
            var (min, max) = ranges[name];
            foreach (var value in values)
            {
                min = Math.Min(min, value);
                max = Math.Max(max, value);
            }

            ranges[name] = (min, max);
        });
        if (method == CalibrationMethod.MinMax)
        {
            return ranges;
        }

        var histograms = names.ToDictionary(name => name, _ => new long[Bins], StringComparer.Ordinal);
        Visit(session, names, samples, (name, values) =>
        {
            var (min, max) = ranges[name];
            var top = Math.Max(-min, max);
            if (top <= 0)
            {
                return;
            }

            var histogram = histograms[name];
            foreach (var value in values)
            {
                histogram[Math.Min(Bins - 1, (int)(Math.Abs(value) / top * Bins))]++;
            }
        });
        return names.ToDictionary(
            name => name,
            name =>
            {
                var (min, max) = ranges[name];
                var top = Math.Max(-min, max);
                // A tensor that never goes negative (a Relu's output) gets all 256 levels of uint8 on one side of zero.
                var levels = min >= 0 ? 256 : 128;
                var threshold = top * (method == CalibrationMethod.Percentile ? PercentileBins(histograms[name]) : EntropyBins(histograms[name], levels)) / Bins;
                return (Math.Max(min, -threshold), Math.Min(max, threshold));
            },
            StringComparer.Ordinal);
    }

    private static void Visit(InferenceSession session, string[] names, SampleSet samples, Action<string, ReadOnlySpan<float>> visit)
    {
        using var runOptions = new RunOptions();
        for (var first = 0; first < samples.Rows; first += BatchRows)
        {
            using var batch = samples.Batch(Math.Min(BatchRows, samples.Rows - first), first);
            using var results = session.Run(runOptions, batch.Names, batch.Values, names);
            for (var i = 0; i < names.Length; i++)
            {
                visit(names[i], results[i].GetTensorDataAsSpan<float>());
            }
        }
    }

    /// <summary>The number of bins that holds <see cref="PercentileKept"/> of the magnitudes.</summary>
    private static int PercentileBins(long[] histogram)
    {
        var total = histogram.Sum();
        var kept = 0L;
        for (var bin = 0; bin < histogram.Length; bin++)
        {
            kept += histogram[bin];
            if (kept >= total * PercentileKept)
            {
                return bin + 1;
            }
        }

        return histogram.Length;
    }

    /// <summary>
    /// The number of bins whose clipped histogram (outliers folded into the last bin) loses least information, by KL
    /// divergence, when squeezed into the levels 8 bits give one sign.
    /// </summary>
    private static int EntropyBins(long[] histogram, int levels)
    {
        // The exact zeros a Relu makes would dominate the divergence and pull the threshold down to the smallest one
        // tried; like TensorRT's calibrator, the first bin counts as its neighbour does.
        histogram = [.. histogram];
        histogram[0] = histogram[1];
        var best = histogram.Length;
        var bestDivergence = double.MaxValue;
        for (var bins = FirstThreshold; bins <= histogram.Length; bins += 16)
        {
            var divergence = Divergence(histogram, bins, levels);
            if (divergence < bestDivergence)
            {
                (best, bestDivergence) = (bins, divergence);
            }
        }

        return best;
    }

    private static double Divergence(long[] histogram, int bins, int levels)
    {
        // The reference: the histogram clipped at the threshold, the clipped magnitudes counted in its last bin.
        var reference = new double[bins];
        for (var i = 0; i < histogram.Length; i++)
        {
            reference[Math.Min(i, bins - 1)] += histogram[i];
        }

        // The candidate: the in-range bins alone (without the clipped mass, which is what clipping loses) merged into
        // as many groups as there are levels, each group's mass spread evenly over its non-empty bins.
        var candidate = new double[bins];
        var perLevel = (double)bins / levels;
        for (var level = 0; level < levels; level++)
        {
            var start = (int)(level * perLevel);
            var end = level == levels - 1 ? bins : (int)((level + 1) * perLevel);
            var mass = 0.0;
            var nonEmpty = 0;
            for (var i = start; i < end; i++)
            {
                mass += histogram[i];
                nonEmpty += histogram[i] > 0 ? 1 : 0;
            }

            for (var i = start; i < end && nonEmpty > 0; i++)
            {
                candidate[i] = histogram[i] > 0 ? mass / nonEmpty : 0;
            }
        }

        var referenceTotal = reference.Sum();
        var candidateTotal = candidate.Sum();
        var divergence = 0.0;
        for (var i = 0; i < bins; i++)
        {
            if (reference[i] > 0)
            {
                var p = reference[i] / referenceTotal;
                var q = candidate[i] > 0 ? candidate[i] / candidateTotal : 1e-12;
                divergence += p * Math.Log(p / q);
            }
        }

        return divergence;
    }
}
