using Turbine.Onnx.Tools;
using Turbine.Onnx.Tools.Optimization;
using Turbine.Tests;

namespace Turbine.Onnx.Tests;

/// <summary>4-bit weight-only quantization: MatMulNBits with per-block scales, answers within 4-bit error, weights about 6x smaller.</summary>
public sealed class Int4WeightPassTests : IDisposable
{
    private readonly TestRepository _files = new();

    public void Dispose() => _files.Dispose();

    [Theory]
    [InlineData(32, 0.25)]
    [InlineData(128, 0.3)] // a block larger than the first layer's K of 64: one half-padded block per column
    public void MatMul_weights_become_4_bit_blocks_and_the_answers_stay_close(int blockSize, double maxSizeShare)
    {
        var original = Path.Combine(_files.Root, "dense.onnx");
        File.WriteAllBytes(original, DenseModels.Create());
        var quantized = Path.Combine(_files.Root, $"dense.q4.{blockSize}.onnx");

        var report = Int4WeightPass.Run(original, quantized, blockSize);

        Assert.Equal(2, report.Quantized.Count);
        Assert.Equal(2, OpCensus.Of(quantized).Operators["com.microsoft.MatMulNBits"]);
        Assert.True(report.BytesAfter < report.BytesBefore * maxSizeShare, $"{report.BytesBefore} -> {report.BytesAfter} bytes");
        DenseModels.AssertClose(original, quantized, maxRelativeL2: 0.15, minAgreement: 0.8);
    }

    [Fact]
    public void Fused_gemms_and_bad_block_sizes_are_refused_with_a_reason()
    {
        var original = Path.Combine(_files.Root, "dense.onnx");
        File.WriteAllBytes(original, DenseModels.Create());
        var fused = Path.Combine(_files.Root, "dense.basic.onnx");
        GraphOptimizationPass.Run(original, fused, "basic");

        var report = Int4WeightPass.Run(fused, Path.Combine(_files.Root, "x.onnx"));

        Assert.Empty(report.Quantized);
        Assert.All(report.Skipped, skip => Assert.StartsWith("Gemm: run the 4-bit pass before", skip.Reason, StringComparison.Ordinal));
        Assert.Throws<ArgumentOutOfRangeException>(() => Int4WeightPass.Run(original, Path.Combine(_files.Root, "y.onnx"), blockSize: 24));
    }
}
