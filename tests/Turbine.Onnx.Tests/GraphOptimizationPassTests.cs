using Turbine.Onnx.Tools;
using Turbine.Onnx.Tools.Optimization;
using Turbine.Tests;

namespace Turbine.Onnx.Tests;

/// <summary>Offline graph optimization: a smaller graph that gives the same answers, and a report of what changed.</summary>
public sealed class GraphOptimizationPassTests : IDisposable
{
    private readonly TestRepository _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void The_optimized_mlp_fuses_its_matmuls_and_answers_as_the_original()
    {
        var original = Write("mlp.onnx", SampleModels.Mlp(inputs: 16, hidden: 32, classes: 4));
        var optimized = Path.Combine(_files.Root, "mlp.optimized.onnx");

        var report = GraphOptimizationPass.Run(original, optimized, "extended");

        Assert.True(File.Exists(optimized));
        Assert.Equal(2, report.Before.Operators["MatMul"]);
        Assert.True(report.After.Operators.GetValueOrDefault("MatMul") < 2, report.ToMarkdown()); // MatMul+Add became Gemm (and Gemm+Relu one fused node)
        Assert.True(report.RemovedNodes > 0, report.ToMarkdown());
        Assert.NotEmpty(report.Introduced);
        Assert.Contains("| MatMul | 2 |", report.ToMarkdown(), StringComparison.Ordinal);

        var features = Enumerable.Range(0, 5 * 16).Select(i => (float)Math.Sin(i)).ToArray();
        var expected = Probabilities(original, features);
        var actual = Probabilities(optimized, features);
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], actual[i], 1e-5f);
        }
    }

    [Fact]
    public void Disabled_optimization_changes_no_operator()
    {
        var original = Write("mlp.onnx", SampleModels.Mlp());

        var report = GraphOptimizationPass.Run(original, Path.Combine(_files.Root, "same.onnx"), "disabled");

        Assert.Equal(report.Before.Operators, report.After.Operators);
        Assert.Empty(report.Introduced);
    }

    [Fact]
    public void An_unknown_level_and_a_file_that_is_not_onnx_are_refused_with_a_reason()
    {
        var original = Write("mlp.onnx", SampleModels.Mlp());
        var garbage = Write("garbage.onnx", "not a model"u8.ToArray());

        var level = Assert.Throws<InferenceException>(() => GraphOptimizationPass.Run(original, Path.Combine(_files.Root, "x.onnx"), "fastest"));
        var model = Assert.Throws<InferenceException>(() => GraphOptimizationPass.Run(garbage, Path.Combine(_files.Root, "y.onnx")));

        Assert.Contains("unknown graph optimization level 'fastest'", level.Message, StringComparison.Ordinal);
        Assert.Contains("could not optimize the model", model.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_files.Root, "y.onnx")));
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_files.Root, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>The model's <c>probabilities</c> for a batch of rows, run through the serving backend.</summary>
    private static float[] Probabilities(string modelPath, float[] features)
    {
        var backend = new OnnxBackend();
        var signature = backend.Inspect(modelPath);
        var config = new ModelConfig
        {
            Name = "mlp",
            MaxBatchSize = 8,
            Inputs = [.. signature.Inputs.Select(t => new TensorConfig(t.Name, t.DataType, t.Shape[1..]))],
            Outputs = [.. signature.Outputs.Select(t => new TensorConfig(t.Name, t.DataType, t.Shape[1..]))],
        };
        using var instance = backend.CreateInstance(modelPath, config);
        using var input = Tensor.FromArray<float>("features", [features.Length / 16, 16], features);
        var results = new List<Tensor>();
        Assert.Null(instance.Run([input], config.Outputs, results));
        try
        {
            return results.Single(r => r.Name == "probabilities").ToArray<float>();
        }
        finally
        {
            results.ForEach(r => r.Dispose());
        }
    }
}
