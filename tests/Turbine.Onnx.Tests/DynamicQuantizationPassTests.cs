using Turbine.Onnx.Tools;
using Turbine.Onnx.Tools.Optimization;
using Turbine.Tests;

namespace Turbine.Onnx.Tests;

/// <summary>Dynamic int8 quantization: int8 weights with per-column scales, answers close to fp32, a quarter of the weight bytes.</summary>
public sealed class DynamicQuantizationPassTests : IDisposable
{
    private const int Inputs = 64;
    private const int Rows = 64;
    private readonly TestRepository _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void MatMul_weights_become_int8_and_the_answers_stay_within_two_percent()
    {
        var original = Write("dense.onnx", Dense());
        var quantized = Path.Combine(_files.Root, "mlp.int8.onnx");

        var report = DynamicQuantizationPass.Run(original, quantized);

        Assert.Equal(2, report.Quantized.Count);
        Assert.Empty(report.Skipped);
        Assert.True(report.BytesAfter < report.BytesBefore * 0.35, $"{report.BytesBefore} -> {report.BytesAfter} bytes");
        Assert.Equal(2, OpCensus.Of(quantized).Operators["com.microsoft.DynamicQuantizeMatMul"]);
        AssertClose(original, quantized);
    }

    [Fact]
    public void Gemm_nodes_from_the_graph_pass_are_quantized_with_their_bias()
    {
        var original = Write("dense.onnx", Dense());
        var fused = Path.Combine(_files.Root, "mlp.basic.onnx");
        GraphOptimizationPass.Run(original, fused, "basic"); // MatMul+Add -> Gemm
        var quantized = Path.Combine(_files.Root, "mlp.basic.int8.onnx");

        var report = DynamicQuantizationPass.Run(fused, quantized);

        Assert.Equal(2, report.Quantized.Count);
        var census = OpCensus.Of(quantized);
        Assert.False(census.Operators.ContainsKey("Gemm"));
        Assert.False(census.Operators.ContainsKey("Add")); // the bias rides in the quantized node
        AssertClose(original, quantized);
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

    /// <summary>
    /// A two-layer dense network with weights scaled as trained ones are (about 1/sqrt(fan-in)), ending in its logits:
    /// features [batch, 64] -> MatMul/Add/Relu (256) -> MatMul/Add -> logits [batch, 16].
    /// </summary>
    private static byte[] Dense()
    {
        var random = new Random(7);
        float[] Weights(int count, int fanIn) => [.. Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2) - 1) / MathF.Sqrt(fanIn))];
        return new OnnxModelBuilder("dense")
            .Input("features", DataType.Fp32, -1, Inputs)
            .Initializer("w1", [Inputs, 256], Weights(Inputs * 256, Inputs))
            .Initializer("b1", [256], Weights(256, Inputs))
            .Initializer("w2", [256, 16], Weights(256 * 16, 256))
            .Initializer("b2", [16], Weights(16, 256))
            .Node("MatMul", ["features", "w1"], ["h0"])
            .Node("Add", ["h0", "b1"], ["h1"])
            .Node("Relu", ["h1"], ["h2"])
            .Node("MatMul", ["h2", "w2"], ["l0"])
            .Node("Add", ["l0", "b2"], ["logits"])
            .Output("logits", DataType.Fp32, -1, 16)
            .ToBytes();
    }

    /// <summary>Relative L2 of the logits under 2%, and the same top class on at least 95% of the rows.</summary>
    private static void AssertClose(string originalPath, string quantizedPath)
    {
        var features = Enumerable.Range(0, Rows * Inputs).Select(i => (float)Math.Sin(i * 0.37) * 2).ToArray();
        var expected = Run(originalPath, features);
        var actual = Run(quantizedPath, features);
        var error = Math.Sqrt(expected.Zip(actual, (e, a) => (double)(e - a) * (e - a)).Sum() / expected.Sum(e => (double)e * e));
        Assert.True(error < 0.02, $"relative L2 {error:P2}");
        var agree = Enumerable.Range(0, Rows).Count(r => ArgMax(expected, r) == ArgMax(actual, r));
        Assert.True(agree >= Rows * 0.95, $"top-1 agreement {agree}/{Rows}");
    }

    private static int ArgMax(float[] logits, int row)
    {
        var span = logits.AsSpan(row * 16, 16);
        return span.IndexOf(span.ToArray().Max());
    }

    private static float[] Run(string modelPath, float[] features)
    {
        var backend = new OnnxBackend();
        var signature = backend.Inspect(modelPath);
        var config = new ModelConfig
        {
            Name = "dense",
            MaxBatchSize = Rows,
            Inputs = [.. signature.Inputs.Select(t => new TensorConfig(t.Name, t.DataType, t.Shape[1..]))],
            Outputs = [.. signature.Outputs.Select(t => new TensorConfig(t.Name, t.DataType, t.Shape[1..]))],
        };
        using var instance = backend.CreateInstance(modelPath, config);
        using var input = Tensor.FromArray<float>("features", [Rows, Inputs], features);
        var results = new List<Tensor>();
        Assert.Null(instance.Run([input], config.Outputs, results));
        using var output = Assert.Single(results);
        return output.ToArray<float>();
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_files.Root, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
