using Turbine.Onnx.Tools;
using Turbine.Onnx.Tools.Evaluation;
using Turbine.Onnx.Tools.Optimization;
using Turbine.Tests;

namespace Turbine.Onnx.Tests;

/// <summary>Static int8 in QDQ form: calibrated activations, per-channel int8 weights, Relus folded, answers close to fp32.</summary>
public sealed class StaticQuantizationPassTests : IDisposable
{
    private readonly TestRepository _files = new();

    public void Dispose() => _files.Dispose();

    [Theory]
    [InlineData(CalibrationMethod.MinMax, 0.03)]
    [InlineData(CalibrationMethod.Percentile, 0.03)]
    [InlineData(CalibrationMethod.Entropy, 0.15)] // entropy clips the crowded ends of these arcsine-shaped inputs
    public void A_dense_network_runs_in_qdq_form_close_to_fp32(CalibrationMethod method, double maxRelativeL2)
    {
        var original = Write("dense.onnx", DenseModels.Create());
        var quantized = Path.Combine(_files.Root, $"dense.qdq.{method}.onnx");
        var calibration = DenseModels.Calibration(original, rows: 64);

        var report = StaticQuantizationPass.Run(original, quantized, calibration, method);

        Assert.Equal(2, report.Quantized.Count); // the two Gemms the basic optimization made of MatMul+Add
        Assert.Equal(1, report.RemovedActivations); // the Relu between them
        Assert.Equal(64, report.CalibrationRows);
        var census = OpCensus.Of(quantized);
        Assert.Equal(2, census.Operators["QuantizeLinear"]); // the input and the hidden activation; the logits stay fp32
        Assert.False(census.Operators.ContainsKey("Relu"));
        DenseModels.AssertClose(original, quantized, maxRelativeL2, minAgreement: 0.9);
    }

    [Theory]
    [InlineData(CalibrationMethod.MinMax, 50, 60)]
    [InlineData(CalibrationMethod.Percentile, 4, 12)]
    [InlineData(CalibrationMethod.Entropy, 4, 12)]
    public void Percentile_and_entropy_clip_a_rare_outlier_that_min_max_keeps(CalibrationMethod method, double minRange, double maxRange)
    {
        var original = Write("identity.onnx", new OnnxModelBuilder("identity")
            .Input("x", DataType.Fp32, -1, 8)
            .Initializer("eye", [8, 8], [.. Enumerable.Range(0, 64).Select(i => i % 9 == 0 ? 1f : 0f)])
            .Node("MatMul", ["x", "eye"], ["y"])
            .Output("y", DataType.Fp32, -1, 8)
            .ToBytes());
        var calibration = SampleSet.For(new OnnxBackend().Inspect(original));
        var random = new Random(5);
        var values = Enumerable.Range(0, 200_000).Select(_ => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())).ToArray();
        values[1234] = 50; // one value in 200,000 (under the 0.001% percentile clips), fifty standard deviations out
        calibration.Inputs[0].AddValues(values);
        var quantized = Path.Combine(_files.Root, $"identity.{method}.onnx");

        StaticQuantizationPass.Run(original, quantized, calibration, method);

        var scale = BitConverter.ToSingle(OnnxModelEditor.Read(quantized).Graph.Initializer.Single(t => t.Name == "x_scale").RawData.Span);
        var range = scale * 255;
        Assert.InRange(range, minRange, maxRange);
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_files.Root, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
