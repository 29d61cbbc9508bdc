using System.Globalization;
using Turbine.Onnx.Tools.Evaluation;

namespace Turbine.Onnx.Tools.Optimization;

/// <summary>Settings the passes of a candidate take.</summary>
/// <param name="GraphLevel">The graph pass's level.</param>
/// <param name="Int4BlockSize">The int4 pass's block size.</param>
/// <param name="Int4AccuracyLevel">The int4 pass's accuracy level (0-4).</param>
/// <param name="PruneKeep">The share of hidden units the pruning pass keeps.</param>
/// <param name="Calibration">The static int8 pass's calibration method.</param>
/// <param name="DistillHidden">The hidden units of the student distillation trains.</param>
public sealed record PassSettings(
    string GraphLevel = "extended",
    int Int4BlockSize = 32,
    int Int4AccuracyLevel = 0,
    double PruneKeep = 0.5,
    CalibrationMethod Calibration = CalibrationMethod.MinMax,
    int DistillHidden = 64);

/// <summary>
/// The passes <c>turbine optimize</c> can try, by the names its <c>--passes</c> option takes. A candidate is one pass
/// or several joined by <c>+</c> (<c>prune+int8</c>), run in that order; a pass may carry its setting after a colon:
/// <c>graph:all</c>, <c>qdq:entropy</c>, <c>int4:128</c> (block size), <c>prune:0.25</c> (share kept), <c>distill:32</c> (hidden units).
/// </summary>
public static class CandidatePasses
{
    /// <summary>Every pass name.</summary>
    public static IReadOnlyList<string> Names { get; } = ["graph", "int8", "qdq", "int4", "fp16", "prune", "distill"];

    /// <summary>What a search tries when no passes are named: every pass that keeps a trained model's answers without retraining.</summary>
    public static IReadOnlyList<string> SearchedByDefault { get; } = ["graph", "int8", "qdq", "int4", "fp16"];

    /// <summary>
    /// What <c>--target edge</c> searches: the lossless graph pass and the integer ones that shrink a model and run on a
    /// device's CPU; fp16 halves the file too, but CPUs without fp16 arithmetic run it slower than fp32.
    /// </summary>
    public static IReadOnlyList<string> SearchedForEdge { get; } = ["graph", "int8", "qdq", "int4"];

    /// <summary>The pass name of a pass as a candidate names it (<c>qdq</c> of <c>qdq:entropy</c>).</summary>
    public static string NameOf(string pass) => pass.Split(':', 2)[0];

    /// <summary>Runs one pass from <paramref name="input"/> into <paramref name="output"/> and describes what it did.</summary>
    /// <param name="pass">The pass, with its setting after a colon if any.</param>
    /// <param name="input">The model the pass reads.</param>
    /// <param name="output">Where it writes its result.</param>
    /// <param name="calibration">Rows for the passes that calibrate.</param>
    /// <param name="settings">Settings of the passes, which a setting in <paramref name="pass"/> overrides.</param>
    /// <exception cref="InferenceException">The pass or its setting is unknown, or the pass cannot work on this model.</exception>
    public static string Run(string pass, string input, string output, SampleSet calibration, PassSettings settings)
    {
        ArgumentNullException.ThrowIfNull(pass);
        settings = WithSetting(pass, settings ?? new PassSettings());
        switch (NameOf(pass))
        {
            case "graph":
                var graph = GraphOptimizationPass.Run(input, output, settings.GraphLevel);
                var fused = graph.Introduced.Count == 0 ? "none" : string.Join(", ", graph.Introduced.Select(op => $"{op.Key} {op.Value}"));
                return $"graph ({settings.GraphLevel}): {graph.Before.Nodes} -> {graph.After.Nodes} nodes; introduced: {fused}";
            case "int8":
                var int8 = DynamicQuantizationPass.Run(input, output);
                return $"dynamic int8: {Count(int8)} MatMul/Gemm nodes quantized (per-column weights)";
            case "qdq":
                var qdq = StaticQuantizationPass.Run(input, output, calibration, settings.Calibration);
                return $"static int8 QDQ ({settings.Calibration}): {qdq.Quantized.Count} nodes quantized (Conv, MatMul, Gemm and the operators between them), {qdq.RemovedActivations} Relus folded, {qdq.CalibratedTensors} activations calibrated on {qdq.CalibrationRows} rows";
            case "int4":
                var int4 = Int4WeightPass.Run(input, output, settings.Int4BlockSize, settings.Int4AccuracyLevel);
                return $"int4 weights (block {settings.Int4BlockSize}, accuracy level {settings.Int4AccuracyLevel}): {Count(int4)} MatMul nodes";
            case "fp16":
                var fp16 = Fp16Pass.Run(input, output);
                return $"fp16: {fp16.Initializers} weights in fp16, {fp16.Fp32Nodes} nodes kept in fp32";
            case "prune":
                var pruned = PruningPass.HiddenUnits(input, output, settings.PruneKeep);
                return $"pruned to {(settings.PruneKeep * 100).ToString("F0", CultureInfo.InvariantCulture)}% of the hidden units: {string.Join("; ", pruned.Chains)}";
            case "distill":
                var student = DistillationPass.Run(input, output, calibration, settings.DistillHidden);
                return $"distilled into {student.Hidden} hidden units by {student.Objective}, on {student.TrainingRows} rows (the data and noisy copies) for {student.Epochs} epochs, final loss {student.FinalLoss:G3}";
            default:
                throw new InferenceException($"unknown pass '{ClientText.Quote(pass)}' (passes: {string.Join(", ", Names)})");
        }
    }

    private static PassSettings WithSetting(string pass, PassSettings settings)
    {
        var parts = pass.Split(':', 2);
        if (parts.Length == 1)
        {
            return settings;
        }

        var value = parts[1];
        var invariant = CultureInfo.InvariantCulture;
        return parts[0] switch
        {
            "graph" => settings with { GraphLevel = value },
            "qdq" when Enum.TryParse<CalibrationMethod>(value, ignoreCase: true, out var method) => settings with { Calibration = method },
            "int4" when int.TryParse(value, NumberStyles.None, invariant, out var block) => settings with { Int4BlockSize = block },
            "prune" when double.TryParse(value, NumberStyles.Float, invariant, out var keep) && keep is > 0 and < 1 => settings with { PruneKeep = keep },
            "distill" when int.TryParse(value, NumberStyles.None, invariant, out var units) && units > 0 => settings with { DistillHidden = units },
            _ => throw new InferenceException($"pass '{ClientText.Quote(pass)}': '{ClientText.Quote(value)}' is not a setting it takes (graph:LEVEL, qdq:minmax|percentile|entropy, int4:BLOCK, prune:SHARE, distill:UNITS)"),
        };
    }

    private static string Count(QuantizationReport report) => $"{report.Quantized.Count} of {report.Quantized.Count + report.Skipped.Count}";
}
