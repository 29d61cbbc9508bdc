using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace Turbine.Onnx.Tools.Optimization;

/// <summary>
/// Dynamic int8 quantization of MatMul and Gemm: each weight matrix (a constant B of shape [K, N]) is stored as int8
/// with one symmetric scale per output column (per channel), and the node becomes ONNX Runtime's
/// <c>DynamicQuantizeMatMul</c> (<c>com.microsoft</c>), which quantizes the activations at run time, multiplies in
/// integers and scales back to fp32. Weights shrink 4x; speed depends on the CPU's int8 instructions, so it is measured,
/// never assumed. Nodes whose weights are not constants, or Gemms with a transposed A or alpha/beta other than 1, stay
/// fp32 and are listed with the reason.
/// </summary>
public static class DynamicQuantizationPass
{
    public static QuantizationReport Run(string modelPath, string outputPath)
    {
        var model = OnnxModelEditor.Read(modelPath);
        var graph = model.Graph;
        var initializers = graph.Initializer.ToDictionary(tensor => tensor.Name, StringComparer.Ordinal);
        var quantized = new List<string>();
        var skipped = new List<(string Node, string Reason)>();
        for (var i = 0; i < graph.Node.Count; i++)
        {
            var node = graph.Node[i];
            if (!GraphEdits.IsDenseProduct(node))
            {
                continue;
            }

            if (Plan(node, initializers, out var weights, out var transposed) is { } reason)
            {
                skipped.Add((node.Name, reason));
                continue;
            }

            var (values, scales) = Quantize(GraphEdits.Floats(weights!), (int)weights!.Dims[0], (int)weights.Dims[1], transposed);
            var k = transposed ? weights.Dims[1] : weights.Dims[0];
            var n = transposed ? weights.Dims[0] : weights.Dims[1];
            var prefix = $"{node.Name}_{i}_quant";
            graph.Initializer.Add(GraphEdits.Tensor(prefix + "_B", TensorProto.Types.DataType.Int8, [k, n], MemoryMarshal.AsBytes(values.AsSpan())));
            graph.Initializer.Add(GraphEdits.Tensor(prefix + "_scale", TensorProto.Types.DataType.Float, [n], MemoryMarshal.AsBytes(scales.AsSpan())));
            graph.Initializer.Add(GraphEdits.Tensor(prefix + "_zero", TensorProto.Types.DataType.Int8, [n], new byte[n]));
            var replacement = new NodeProto { Name = prefix, OpType = "DynamicQuantizeMatMul", Domain = GraphEdits.MicrosoftDomain };
            replacement.Input.AddRange([node.Input[0], prefix + "_B", prefix + "_scale", prefix + "_zero"]);
            if (node.OpType == "Gemm" && node.Input.Count > 2 && node.Input[2].Length > 0)
            {
                replacement.Input.Add(node.Input[2]); // the bias
            }

            replacement.Output.AddRange(node.Output);
            graph.Node[i] = replacement;
            quantized.Add(node.Name);
        }

        return GraphEdits.WriteQuantized(model, modelPath, outputPath, quantized, skipped);
    }

    /// <returns>Why the node stays fp32, or null with its constant weights.</returns>
    private static string? Plan(NodeProto node, Dictionary<string, TensorProto> initializers, out TensorProto? weights, out bool transposed)
    {
        transposed = false;
        weights = null;
        if (node.Input.Count < 2 || !initializers.TryGetValue(node.Input[1], out var b))
        {
            return "its weights are not a constant";
        }

        if (!GraphEdits.IsFloatMatrix(b))
        {
            return "its weights are not a 2-D fp32 matrix";
        }

        if (node.OpType == "Gemm")
        {
            var attributes = node.Attribute.ToDictionary(a => a.Name, StringComparer.Ordinal);
            if (attributes.TryGetValue("transA", out var transA) && transA.I != 0)
            {
                return "Gemm with transA";
            }

            if ((attributes.TryGetValue("alpha", out var alpha) && alpha.F != 1f) || (attributes.TryGetValue("beta", out var beta) && beta.F != 1f))
            {
                return "Gemm with alpha or beta other than 1";
            }

            transposed = attributes.TryGetValue("transB", out var transB) && transB.I != 0;
        }

        weights = b;
        return null;
    }

    /// <summary>Symmetric int8 per output column: scale = max |w| / 127, zero point 0.</summary>
    private static (sbyte[] Values, float[] Scales) Quantize(float[] weights, int rows, int columns, bool transposed)
    {
        // Stored [rows, columns]; the matrix the product uses is [K, N], the stored one transposed when transB is set.
        var k = transposed ? columns : rows;
        var n = transposed ? rows : columns;
        float At(int r, int c) => transposed ? weights[(c * columns) + r] : weights[(r * columns) + c];
        var scales = new float[n];
        for (var c = 0; c < n; c++)
        {
            var max = 0f;
            for (var r = 0; r < k; r++)
            {
                max = Math.Max(max, Math.Abs(At(r, c)));
            }

            scales[c] = max == 0 ? 1 : max / 127f;
        }

        var values = new sbyte[k * n];
        for (var r = 0; r < k; r++)
        {
            for (var c = 0; c < n; c++)
            {
                values[(r * n) + c] = (sbyte)Math.Clamp(MathF.Round(At(r, c) / scales[c]), -127, 127);
            }
        }

        return (values, scales);
    }
}

/// <summary>What a quantization pass did.</summary>
/// <param name="Quantized">The nodes now running on quantized weights.</param>
/// <param name="Skipped">The MatMul and Gemm nodes left in fp32, with why.</param>
/// <param name="BytesBefore">The original file's size.</param>
/// <param name="BytesAfter">The quantized file's size.</param>
public sealed record QuantizationReport(IReadOnlyList<string> Quantized, IReadOnlyList<(string Node, string Reason)> Skipped, long BytesBefore, long BytesAfter);
