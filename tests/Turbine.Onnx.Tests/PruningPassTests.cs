using Microsoft.ML.OnnxRuntime;
using Turbine.Onnx.Tools;
using Turbine.Onnx.Tools.Optimization;
using Turbine.Tests;

namespace Turbine.Onnx.Tests;

/// <summary>Pruning: zeroed smallest weights, and hidden units removed from dense chains so the matrices really shrink.</summary>
public sealed class PruningPassTests : IDisposable
{
    private readonly TestRepository _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Units_that_carry_nothing_are_removed_and_the_answers_do_not_change()
    {
        // 16 hidden units, of which units 8-15 have all-zero outgoing weights: they never reach the output.
        var random = new Random(5);
        var w1 = Enumerable.Range(0, 8 * 16).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        var b1 = Enumerable.Range(0, 16).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        var w2 = Enumerable.Range(0, 16 * 4).Select(i => i / 4 < 8 ? (float)random.NextDouble() - 0.5f : 0f).ToArray();
        var original = Write("chain.onnx", Chain(w1, b1, w2));
        var pruned = Path.Combine(_files.Root, "chain.pruned.onnx");

        var report = PruningPass.HiddenUnits(original, pruned, keep: 0.5);

        Assert.Equal("w1/w2: 16 -> 8 hidden units", Assert.Single(report.Chains));
        var model = OnnxModelEditor.Read(pruned);
        Assert.Equal([8L, 8], model.Graph.Initializer.Single(t => t.Name == "w1").Dims);
        Assert.Equal([8L, 4], model.Graph.Initializer.Single(t => t.Name == "w2").Dims);
        var features = Enumerable.Range(0, 3 * 8).Select(i => (float)Math.Cos(i)).ToArray();
        var expected = Run(original, features, [3, 8]);
        var actual = Run(pruned, features, [3, 8]);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], actual[i], 1e-5f);
        }
    }

    [Fact]
    public void Pruning_half_the_units_of_a_dense_model_halves_its_file()
    {
        var original = Write("dense.onnx", DenseModels.Create());
        var pruned = Path.Combine(_files.Root, "dense.pruned.onnx");

        var report = PruningPass.HiddenUnits(original, pruned, keep: 0.5);

        Assert.Equal("w1/w2: 256 -> 128 hidden units", Assert.Single(report.Chains));
        Assert.InRange(report.BytesAfter, report.BytesBefore * 0.4, report.BytesBefore * 0.6);
        Assert.All(Run(pruned, new float[2 * 64], [2, 64]), value => Assert.True(float.IsFinite(value)));
    }

    [Fact]
    public void Magnitude_pruning_zeroes_the_asked_share_of_every_weight_matrix()
    {
        var original = Write("dense.onnx", DenseModels.Create());

        var report = PruningPass.Magnitude(original, Path.Combine(_files.Root, "dense.sparse.onnx"), sparsity: 0.5);

        Assert.Equal(["w1", "w2"], report.Layers.Select(layer => layer.Name));
        Assert.All(report.Layers, layer => Assert.InRange(layer.Sparsity, 0.5, 0.501));
        Assert.Throws<ArgumentOutOfRangeException>(() => PruningPass.Magnitude(original, Path.Combine(_files.Root, "x.onnx"), sparsity: 1));
    }

    private static byte[] Chain(float[] w1, float[] b1, float[] w2) =>
        new OnnxModelBuilder("chain")
            .Input("x", DataType.Fp32, -1, 8)
            .Initializer("w1", [8, 16], w1)
            .Initializer("b1", [16], b1)
            .Initializer("w2", [16, 4], w2)
            .Node("MatMul", ["x", "w1"], ["h0"])
            .Node("Add", ["h0", "b1"], ["h1"])
            .Node("Relu", ["h1"], ["h2"])
            .Node("MatMul", ["h2", "w2"], ["y"])
            .Output("y", DataType.Fp32, -1, 4)
            .ToBytes();

    private static float[] Run(string path, float[] features, long[] shape)
    {
        OnnxThreadBudget.EnsureEnvironment(); // the process's environment as serving creates it, whichever test runs first
        using var session = new InferenceSession(path);
        using var runOptions = new RunOptions();
        using var value = OrtValue.CreateTensorValueFromMemory(features, shape);
        using var results = session.Run(runOptions, [session.InputNames[0]], [value], [session.OutputNames[0]]);
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_files.Root, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
