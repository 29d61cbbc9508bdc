using Turbine.Onnx.Tools;
using Turbine.Onnx.Tools.Optimization;
using Turbine.Tests;

namespace Turbine.Onnx.Tests;

/// <summary>Dynamic int8 quantization: int8 weights with per-column scales, answers close to fp32, a quarter of the weight bytes.</summary>
public sealed class DynamicQuantizationPassTests : IDisposable
{
    private readonly TestRepository _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void MatMul_weights_become_int8_and_the_answers_stay_within_two_percent()
    {
        var original = Write("dense.onnx", DenseModels.Create());
        var quantized = Path.Combine(_files.Root, "mlp.int8.onnx");

        var report = DynamicQuantizationPass.Run(original, quantized);

        Assert.Equal(2, report.Quantized.Count);
        Assert.Empty(report.Skipped);
        Assert.True(report.BytesAfter < report.BytesBefore * 0.35, $"{report.BytesBefore} -> {report.BytesAfter} bytes");
        Assert.Equal(2, OpCensus.Of(quantized).Operators["com.microsoft.DynamicQuantizeMatMul"]);
        DenseModels.AssertClose(original, quantized, maxRelativeL2: 0.02, minAgreement: 0.95);
    }

    [Fact]
    public void Gemm_nodes_from_the_graph_pass_are_quantized_with_their_bias()
    {
        var original = Write("dense.onnx", DenseModels.Create());
        var fused = Path.Combine(_files.Root, "mlp.basic.onnx");
        GraphOptimizationPass.Run(original, fused, "basic"); // MatMul+Add -> Gemm
        var quantized = Path.Combine(_files.Root, "mlp.basic.int8.onnx");

        var report = DynamicQuantizationPass.Run(fused, quantized);

        Assert.Equal(2, report.Quantized.Count);
        var census = OpCensus.Of(quantized);
        Assert.False(census.Operators.ContainsKey("Gemm"));
        Assert.False(census.Operators.ContainsKey("Add")); // the bias rides in the quantized node
        DenseModels.AssertClose(original, quantized, maxRelativeL2: 0.02, minAgreement: 0.95);
    }

    [Fact]
    public void A_matmul_of_two_activations_stays_fp32_with_the_reason()
    {
        var model = new OnnxModelBuilder("pair")
            .Input("A", DataType.Fp32, -1, 4)
            .Input("B", DataType.Fp32, 4, 3)
            .Node("MatMul", ["A", "B"], ["Y"])
            .Output("Y", DataType.Fp32, -1, 3)
            .ToBytes();

        var report = DynamicQuantizationPass.Run(Write("pair.onnx", model), Path.Combine(_files.Root, "pair.int8.onnx"));

        Assert.Empty(report.Quantized);
        Assert.Equal("its weights are not a constant", Assert.Single(report.Skipped).Reason);
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_files.Root, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
