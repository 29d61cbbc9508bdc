using System.Runtime.InteropServices;
using Onnx;
using Turbine.Onnx.Tools.Evaluation;

namespace Turbine.Onnx.Tools.Optimization;

/// <summary>
/// Static int8 quantization in QDQ form: the model first gets ONNX Runtime's basic optimizations (BatchNormalization
/// folded into Conv, MatMul+Add into Gemm), then each Conv, MatMul and Gemm with constant weights takes int8 weights
/// (symmetric, one scale per output channel) and an int32 bias, and every activation into or out of the quantized
/// operators (Conv, MatMul, Gemm, Add, pooling, Concat) gets a QuantizeLinear/DequantizeLinear pair with a uint8 scale
/// and zero point from calibration. A Relu right after a quantized operator is dropped: its output's range starts at
/// zero, so quantizing clips what the Relu would. ONNX Runtime fuses each DQ -> op -> Q group into its integer kernels
/// (QLinearConv, QLinearAdd, ...) at load.
/// </summary>
public static class StaticQuantizationPass
{
    private const int Opset = 13; // DequantizeLinear's axis (per-channel weights) arrived in opset 13

    private static readonly HashSet<string> WeightedOperators = ["Conv", "MatMul", "Gemm"];
    private static readonly HashSet<string> QuantizedOperators = ["Conv", "MatMul", "Gemm", "Add", "MaxPool", "AveragePool", "GlobalAveragePool", "Concat"];

    // Operators whose meaning did not change between opset 7 and 13 (what a model may hold if its opset is raised).
    private static readonly HashSet<string> OpsetStable =
    [
        "Conv", "MatMul", "Gemm", "Add", "Sub", "Mul", "Div", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "MaxPool", "AveragePool", "GlobalAveragePool",
        "GlobalMaxPool", "Concat", "Flatten", "Reshape", "Transpose", "Identity", "Softmax", "LogSoftmax", "ArgMax", "Exp", "Sqrt", "Abs", "Neg",
    ];

    /// <summary>Quantizes <paramref name="modelPath"/> into <paramref name="outputPath"/>, calibrated on <paramref name="calibration"/>.</summary>
    /// <exception cref="InferenceException">No calibration rows, or a model below opset 13 holding operators whose meaning changed since.</exception>
    public static StaticQuantizationReport Run(string modelPath, string outputPath, SampleSet calibration, CalibrationMethod method = CalibrationMethod.MinMax)
    {
        ArgumentNullException.ThrowIfNull(calibration);
        if (calibration.Rows == 0)
        {
            throw new InferenceException("static quantization needs calibration rows");
        }

        var workFolder = Path.Combine(Path.GetTempPath(), "turbine-qdq-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(workFolder);
        try
        {
            var constantPath = Path.Combine(workFolder, "constant.onnx");
            OnnxModelEditor.Write(WithoutOverridableWeights(OnnxModelEditor.Read(modelPath)), constantPath);
            var preparedPath = Path.Combine(workFolder, "prepared.onnx");
            GraphOptimizationPass.Run(constantPath, preparedPath, "basic");
            var model = OnnxModelEditor.Read(preparedPath);
            RaiseOpset(model);
            var plan = QdqPlan.Of(model.Graph, WeightedOperators, QuantizedOperators);
            var ranges = ActivationCalibrator.Calibrate(model, plan.Calibrated, calibration, method, workFolder);
            var quantized = plan.Apply(model.Graph, ranges);
            GraphEdits.RemoveUnused(model.Graph);
            model.Graph.ValueInfo.Clear(); // recorded types of values that now pass through Q/DQ; ONNX Runtime infers them again
            OnnxModelEditor.Write(model, outputPath);
            return new StaticQuantizationReport(
                quantized, plan.Skipped, plan.Calibrated.Count, calibration.Rows, method, plan.RemovedActivations,
                new FileInfo(modelPath).Length, new FileInfo(outputPath).Length);
        }
        finally
        {
            Directory.Delete(workFolder, recursive: true);
        }
    }

    /// <summary>
    /// Drops the graph inputs that name initializers (older exporters list every weight as an input, which makes it
    /// overridable, so ONNX Runtime neither folds it into Conv nor lets it be quantized as a constant).
    /// </summary>
    private static ModelProto WithoutOverridableWeights(ModelProto model)
    {
        var weights = model.Graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        for (var i = model.Graph.Input.Count - 1; i >= 0; i--)
        {
            if (weights.Contains(model.Graph.Input[i].Name))
            {
                model.Graph.Input.RemoveAt(i);
            }
        }

        model.IrVersion = Math.Max(model.IrVersion, 4); // from IR 4 on, initializers need not be inputs
        return model;
    }

    /// <summary>Raises the default-domain opset to 13 when every operator means the same there.</summary>
    private static void RaiseOpset(ModelProto model)
    {
        var opset = model.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx");
        if (opset is null || opset.Version >= Opset)
        {
            return;
        }

        var changed = model.Graph.Node.Where(node => node.Domain is "" or "ai.onnx" && !OpsetStable.Contains(node.OpType)).Select(node => node.OpType).Distinct().ToList();
        if (changed.Count > 0)
        {
            throw new InferenceException($"the model is at opset {opset.Version} and holds {string.Join(", ", changed)}, whose meaning changed before opset {Opset}; export it at opset {Opset} or later for static quantization");
        }

        opset.Version = Opset;
        model.IrVersion = Math.Max(model.IrVersion, 7);
    }
}

/// <summary>What the static int8 pass did.</summary>
/// <param name="Quantized">The nodes that run quantized (weighted operators with int8 weights, and operators between quantized activations).</param>
/// <param name="Skipped">Weighted operators left in fp32, with the reason.</param>
/// <param name="CalibratedTensors">Activations given a calibrated range.</param>
/// <param name="CalibrationRows">Rows calibration ran.</param>
/// <param name="Method">The calibration method.</param>
/// <param name="RemovedActivations">Relu nodes folded into the quantized range.</param>
/// <param name="BytesBefore">The original file's size.</param>
/// <param name="BytesAfter">The quantized file's size.</param>
public sealed record StaticQuantizationReport(
    IReadOnlyList<string> Quantized,
    IReadOnlyList<(string Node, string Reason)> Skipped,
    int CalibratedTensors,
    int CalibrationRows,
    CalibrationMethod Method,
    int RemovedActivations,
    long BytesBefore,
    long BytesAfter);
