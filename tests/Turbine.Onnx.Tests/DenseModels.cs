using Turbine.Onnx.Tools;

namespace Turbine.Onnx.Tests;

/// <summary>A dense network to quantize, and the comparison of a quantized copy with it.</summary>
internal static class DenseModels
{
    private const int Inputs = 64;
    private const int Rows = 64;

    /// <summary>
    /// A two-layer dense network with weights scaled as trained ones are (about 1/sqrt(fan-in)), ending in its logits:
    /// features [batch, 64] -> MatMul/Add/Relu (256) -> MatMul/Add -> logits [batch, 16].
    /// </summary>
    public static byte[] Create()
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

    /// <summary>Input rows as the comparison feeds them (values in [-2, 2]); from <paramref name="firstRow"/> on, other rows of the same kind.</summary>
    public static float[] Features(int rows, int firstRow = 0) =>
        [.. Enumerable.Range(firstRow * Inputs, rows * Inputs).Select(i => (float)Math.Sin(i * 0.37) * 2)];

    /// <summary>Calibration rows for the static pass: of the same kind as the compared ones, but not them.</summary>
    public static Turbine.Onnx.Tools.Evaluation.SampleSet Calibration(string modelPath, int rows, int firstRow = 1000)
    {
        var samples = Turbine.Onnx.Tools.Evaluation.SampleSet.For(new OnnxBackend().Inspect(modelPath));
        samples.Inputs[0].AddValues([.. Features(rows, firstRow).Select(v => (double)v)]);
        return samples;
    }

    /// <summary>The relative L2 of the logits under a bound, and the same top class on at least a share of the rows.</summary>
    public static void AssertClose(string originalPath, string quantizedPath, double maxRelativeL2, double minAgreement)
    {
        var features = Features(Rows);
        var expected = Run(originalPath, features);
        var actual = Run(quantizedPath, features);
        var error = Math.Sqrt(expected.Zip(actual, (e, a) => (double)(e - a) * (e - a)).Sum() / expected.Sum(e => (double)e * e));
        Assert.True(error < maxRelativeL2, $"relative L2 {error:P2}");
        var agree = Enumerable.Range(0, Rows).Count(r => ArgMax(expected, r) == ArgMax(actual, r));
        Assert.True(agree >= Rows * minAgreement, $"top-1 agreement {agree}/{Rows}");
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
}
