using Microsoft.ML.OnnxRuntime;

namespace Turbine.Onnx.Tools.Optimization;

/// <summary>
/// Offline graph optimization: ONNX Runtime optimizes the model at the chosen level (constant folding, redundant node
/// elimination, and at <c>extended</c> and above the fusions: MatMul+Add into Gemm, Gemm or Conv with their activation,
/// LayerNorm, GELU, attention ...) and writes the result to disk, so a server loads it without paying for the
/// optimization again. The report says what changed. Above <c>basic</c> the output may hold ONNX Runtime's own
/// operators (<c>com.microsoft</c>) and suit only the execution provider it was optimized for (CPU here).
/// </summary>
public static class GraphOptimizationPass
{
    /// <summary>Optimizes <paramref name="modelPath"/> into <paramref name="outputPath"/> and reports the change.</summary>
    /// <param name="modelPath">The original model.</param>
    /// <param name="outputPath">Where the optimized model goes (its folder must exist).</param>
    /// <param name="level">disabled, basic, extended, layout or all.</param>
    /// <exception cref="InferenceException">An unknown level, or a model ONNX Runtime cannot load.</exception>
    public static GraphOptimizationReport Run(string modelPath, string outputPath, string level = "extended")
    {
        OnnxThreadBudget.EnsureEnvironment(); // the process's ONNX Runtime environment, as serving creates it
        using (var options = new SessionOptions { GraphOptimizationLevel = OnnxSessionFactory.OptimizationLevel(level), OptimizedModelFilePath = outputPath })
        {
            try
            {
                using var session = new InferenceSession(modelPath, options); // writes the optimized graph as it loads
            }
            catch (OnnxRuntimeException e)
            {
                throw new InferenceException($"ONNX Runtime could not optimize the model: {e.Message}");
            }
        }

        return GraphOptimizationReport.Compare(level, OpCensus.Of(modelPath), OpCensus.Of(outputPath), new FileInfo(modelPath).Length, new FileInfo(outputPath).Length);
    }
}

/// <summary>What a graph optimization changed.</summary>
/// <param name="Level">The optimization level.</param>
/// <param name="Before">The original graph.</param>
/// <param name="After">The optimized graph.</param>
/// <param name="BytesBefore">The original file's size.</param>
/// <param name="BytesAfter">The optimized file's size.</param>
public sealed record GraphOptimizationReport(string Level, OpCensus Before, OpCensus After, long BytesBefore, long BytesAfter)
{
    /// <summary>Operators the optimization introduced (fusions such as <c>com.microsoft.FusedGemm</c> or <c>Gemm</c>), with their counts.</summary>
    public IReadOnlyDictionary<string, int> Introduced { get; private init; } = new Dictionary<string, int>();

    /// <summary>Nodes fewer after than before (fused, folded into constants, or eliminated).</summary>
    public int RemovedNodes => Before.Nodes - After.Nodes;

    /// <summary>Operator counts before and after, one row per operator present in either graph.</summary>
    public IEnumerable<(string Operator, int Before, int After)> Rows() =>
        Before.Operators.Keys.Union(After.Operators.Keys).Order(StringComparer.Ordinal)
            .Select(op => (op, Before.Operators.GetValueOrDefault(op), After.Operators.GetValueOrDefault(op)));

    internal static GraphOptimizationReport Compare(string level, OpCensus before, OpCensus after, long bytesBefore, long bytesAfter) =>
        new(level, before, after, bytesBefore, bytesAfter)
        {
            Introduced = after.Operators.Where(op => !before.Operators.ContainsKey(op.Key)).ToDictionary(op => op.Key, op => op.Value),
        };

    /// <summary>The report as a Markdown table.</summary>
    public string ToMarkdown()
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine($"Graph optimization at level `{Level}`: {Before.Nodes} nodes -> {After.Nodes} ({RemovedNodes} removed), " +
            $"{Before.Initializers} initializers -> {After.Initializers}, {BytesBefore:N0} bytes -> {BytesAfter:N0}.");
        text.AppendLine();
        text.AppendLine("| operator | before | after |");
        text.AppendLine("|---|---:|---:|");
        foreach (var (op, before, after) in Rows())
        {
            text.AppendLine($"| {op} | {before} | {after} |");
        }

        return text.ToString();
    }
}
