using System.Globalization;
using Turbine.Onnx.Tools.Evaluation;

namespace Turbine.Onnx.Tools.Optimization;

/// <summary>Settings the passes of a candidate take.</summary>
/// <param name="GraphLevel">The graph pass's level.</param>
/// <param name="Int4BlockSize">The int4 pass's block size.</param>
/// <param name="Int4AccuracyLevel">The int4 pass's accuracy level (0-4).</param>
/// <param name="PruneKeep">The share of hidden units the pruning pass keeps.</param>
/// <param name="Calibration">The static int8 pass's calibration method.</param>
public sealed record PassSettings(
    string GraphLevel = "extended",
    int Int4BlockSize = 32,
    int Int4AccuracyLevel = 0,
    double PruneKeep = 0.5,
    CalibrationMethod Calibration = CalibrationMethod.MinMax);

/// <summary>
/// The passes <c>turbine optimize</c> can try, by the names its <c>--passes</c> option takes. A candidate is one pass
/// or several joined by <c>+</c> (<c>prune+int8</c>), run in that order.
/// </summary>
public static class CandidatePasses
{
    /// <summary>Every pass name.</summary>
    public static IReadOnlyList<string> Names { get; } = ["graph", "int8", "qdq", "int4", "fp16", "prune"];

    /// <summary>What a search tries when no passes are named: every pass that keeps a trained model's answers without retraining.</summary>
    public static IReadOnlyList<string> SearchedByDefault { get; } = ["graph", "int8", "qdq", "int4", "fp16"];

    /// <summary>Runs one pass from <paramref name="input"/> into <paramref name="output"/> and describes what it did.</summary>
    /// <exception cref="InferenceException">The pass is unknown, or cannot work on this model.</exception>
    public static string Run(string pass, string input, string output, SampleSet samples, PassSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        switch (pass)
        {
            case "graph":
                var graph = GraphOptimizationPass.Run(input, output, settings.GraphLevel);
                var fused = graph.Introduced.Count == 0 ? "none" : string.Join(", ", graph.Introduced.Select(op => $"{op.Key} {op.Value}"));
                return $"graph ({settings.GraphLevel}): {graph.Before.Nodes} -> {graph.After.Nodes} nodes; introduced: {fused}";
            case "int8":
                var int8 = DynamicQuantizationPass.Run(input, output);
                return $"dynamic int8: {Count(int8)} MatMul/Gemm nodes quantized (per-column weights)";
            case "qdq":
                var qdq = StaticQuantizationPass.Run(input, output, samples, settings.Calibration);
                return $"static int8 QDQ ({settings.Calibration}): {qdq.Quantized.Count} Conv/MatMul/Gemm nodes quantized, {qdq.CalibratedTensors} tensors calibrated on {qdq.CalibrationRows} rows";
            case "int4":
                var int4 = Int4WeightPass.Run(input, output, settings.Int4BlockSize, settings.Int4AccuracyLevel);
                return $"int4 weights (block {settings.Int4BlockSize}, accuracy level {settings.Int4AccuracyLevel}): {Count(int4)} MatMul nodes";
            case "fp16":
                var fp16 = Fp16Pass.Run(input, output);
                return $"fp16: {fp16.Initializers} weights in fp16, {fp16.Fp32Nodes} nodes kept in fp32";
            case "prune":
                var pruned = PruningPass.HiddenUnits(input, output, settings.PruneKeep);
                return $"pruned to {(settings.PruneKeep * 100).ToString("F0", CultureInfo.InvariantCulture)}% of the hidden units: {string.Join("; ", pruned.Chains)}";
            default:
                throw new InferenceException($"unknown pass '{ClientText.Quote(pass)}' (passes: {string.Join(", ", Names)})");
        }
    }

    private static string Count(QuantizationReport report) => $"{report.Quantized.Count} of {report.Quantized.Count + report.Skipped.Count}";
}
