using Turbine.Onnx.Tools.Evaluation;
using Turbine.Onnx.Tools.Optimization;
using Turbine.Tests;

namespace Turbine.Onnx.Tests;

/// <summary>
/// The accept/reject rule of <c>turbine optimize</c>: candidates are measured against the original, and one is kept
/// only when it meets the goal within the accuracy bound; every rejection carries the figures that caused it. The
/// thresholds are set so the verdicts do not depend on this machine's speed.
/// </summary>
public sealed class ModelOptimizerTests : IDisposable
{
    private readonly TestRepository _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void A_candidate_within_the_bounds_is_kept_and_the_figures_are_reported()
    {
        var report = Optimize(["int8", "fp16"], minSpeedup: 0, maxDrop: 0.05);

        Assert.Equal([1, 4], report.BatchSizes);
        Assert.All(report.Candidates, c => Assert.True(c.Accepted, string.Join("; ", c.Reasons)));
        Assert.Contains(report.Chosen, new[] { "int8", "fp16" });
        var int8 = report.Candidates.Single(c => c.Name == "int8");
        Assert.True(int8.Bytes < report.OriginalBytes * 0.4, $"{int8.Bytes} of {report.OriginalBytes} bytes");
        Assert.Equal(2, int8.Timings.Count);
        Assert.All(int8.Timings.Concat(report.OriginalTimings), t => Assert.True(t.RowsPerSecond > 0 && t.MedianMs > 0 && t.P99Ms >= t.MedianMs));
        Assert.Equal(int8.Timings[1].RowsPerSecond / report.OriginalTimings[1].RowsPerSecond, int8.Speedups[1], 6);
        Assert.InRange(int8.Accuracy!.RelativeL2, 1e-4, 0.05);
        Assert.True(int8.Accuracy.Top1Agreement > 0.9 && int8.Accuracy.Cosine > 0.99);
        Assert.Contains("2 of 2 MatMul/Gemm nodes quantized", int8.PassFigures.Single(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_candidate_too_slow_or_too_inaccurate_for_the_goal_is_rejected_with_its_figures()
    {
        var slow = Optimize(["int8"], minSpeedup: 1000, maxDrop: 1);
        var inaccurate = Optimize(["int4"], minSpeedup: 0, maxDrop: 1e-6);

        var tooSlow = Assert.Single(slow.Candidates);
        Assert.False(tooSlow.Accepted);
        Assert.Null(slow.Chosen);
        Assert.Equal(2, tooSlow.Reasons.Count);
        Assert.Matches(@"^batch 1: \d+\.\d\dx the original's rows/s, under the 1000\.00x the latency goal needs$", tooSlow.Reasons[0]);
        var tooFar = Assert.Single(inaccurate.Candidates);
        Assert.Null(inaccurate.Chosen);
        Assert.StartsWith("accuracy: relative L2 drop ", Assert.Single(tooFar.Reasons), StringComparison.Ordinal);
    }

    [Fact]
    public void The_size_goal_keeps_the_smallest_candidate_and_rejects_one_that_does_not_shrink()
    {
        var report = Optimize(["graph", "fp16", "int8"], minSpeedup: 0, maxDrop: 0.05, goal: OptimizationGoal.Size);

        Assert.Equal("int8", report.Chosen); // a quarter of the weights' bytes; fp16 halves them
        Assert.True(report.Candidates.Single(c => c.Name == "fp16").Accepted);
        var graph = report.Candidates.Single(c => c.Name == "graph");
        Assert.False(graph.Accepted);
        Assert.Contains(graph.Reasons, r => r.StartsWith("size: ", StringComparison.Ordinal));
    }

    [Fact]
    public void A_pass_that_cannot_work_on_the_model_is_a_rejected_candidate_not_a_failed_run()
    {
        var report = Optimize(["int8", "nonsense"], minSpeedup: 0, maxDrop: 0.05);

        var failed = report.Candidates.Single(c => c.Name == "nonsense");
        Assert.False(failed.Accepted);
        Assert.Null(failed.Accuracy);
        Assert.StartsWith("the pass failed: unknown pass 'nonsense'", Assert.Single(failed.Reasons), StringComparison.Ordinal);
        Assert.Equal("int8", report.Chosen);
    }

    [Fact]
    public void Chained_passes_run_in_order()
    {
        var report = Optimize(["prune+int8"], minSpeedup: 0, maxDrop: 10);

        var chained = Assert.Single(report.Candidates);
        Assert.Equal(2, chained.PassFigures.Count);
        Assert.StartsWith("pruned to 50% of the hidden units", chained.PassFigures[0], StringComparison.Ordinal);
        Assert.StartsWith("dynamic int8", chained.PassFigures[1], StringComparison.Ordinal);
        Assert.True(chained.Bytes < report.OriginalBytes * 0.2, $"{chained.Bytes} of {report.OriginalBytes} bytes");
    }

    private OptimizationReport Optimize(string[] candidates, double minSpeedup, double maxDrop, OptimizationGoal goal = OptimizationGoal.Latency)
    {
        var original = Path.Combine(_files.Root, "dense.onnx");
        File.WriteAllBytes(original, DenseModels.Create());
        var options = new OptimizeOptions(
            candidates, goal, AccuracyMetric.RelativeL2, maxDrop, [1, 4], TimeSpan.FromMilliseconds(20), Rounds: 2,
            MinSpeedup: minSpeedup, MaxSlowdown: 1000);
        return new ModelOptimizer(options, TimeProvider.System).Run(original, DenseModels.Calibration(original, rows: 48), Path.Combine(_files.Root, "work"));
    }
}
