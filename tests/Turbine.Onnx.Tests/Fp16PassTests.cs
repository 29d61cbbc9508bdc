using Microsoft.ML.OnnxRuntime;
using Turbine.Onnx.Tools;
using Turbine.Onnx.Tools.Optimization;
using Turbine.Tests;

namespace Turbine.Onnx.Tests;

/// <summary>fp16 conversion: fp16 weights and compute behind unchanged fp32 inputs and outputs, half the file.</summary>
public sealed class Fp16PassTests : IDisposable
{
    private readonly TestRepository _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void The_weights_halve_the_io_types_stay_fp32_and_the_answers_stay_close()
    {
        var original = Path.Combine(_files.Root, "dense.onnx");
        File.WriteAllBytes(original, DenseModels.Create());
        var converted = Path.Combine(_files.Root, "dense.fp16.onnx");

        var report = Fp16Pass.Run(original, converted);

        Assert.Equal(4, report.Initializers);
        Assert.InRange(report.BytesAfter, report.BytesBefore * 0.45, report.BytesBefore * 0.55);
        var signature = new OnnxBackend().Inspect(converted);
        Assert.Equal(DataType.Fp32, Assert.Single(signature.Inputs).DataType);
        Assert.Equal(DataType.Fp32, Assert.Single(signature.Outputs).DataType);
        Assert.Equal(2, OpCensus.Of(converted).Operators["Cast"]);
        DenseModels.AssertClose(original, converted, maxRelativeL2: 0.01, minAgreement: 0.95); // CPU runs it by casting around fp16 ops
    }

    [Fact]
    public void Operators_named_fp32_only_compute_between_casts()
    {
        var original = Path.Combine(_files.Root, "exp.onnx");
        File.WriteAllBytes(original, new OnnxModelBuilder("exp")
            .Input("x", DataType.Fp32, -1, 3)
            .Initializer("scale", [3], [1f, 2f, 3f])
            .Node("Mul", ["x", "scale"], ["scaled"])
            .Node("Exp", ["scaled"], ["y"])
            .Output("y", DataType.Fp32, -1, 3)
            .ToBytes());
        var converted = Path.Combine(_files.Root, "exp.fp16.onnx");

        var report = Fp16Pass.Run(original, converted);

        Assert.Equal(1, report.Fp32Nodes);
        Assert.Equal(4, OpCensus.Of(converted).Operators["Cast"]); // input down, Exp up and down, output up
        OnnxThreadBudget.EnsureEnvironment();
        using var session = new InferenceSession(converted);
        using var value = OrtValue.CreateTensorValueFromMemory(new[] { 1f, 1f, 1f }, [1, 3]);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, ["x"], [value], ["y"]);
        var y = results[0].GetTensorDataAsSpan<float>().ToArray();
        Assert.Equal(MathF.Exp(3), y[2], 0.05f);
    }
}
