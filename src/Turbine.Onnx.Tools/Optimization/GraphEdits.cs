using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace Turbine.Onnx.Tools.Optimization;

/// <summary>Small edits the passes make to a graph: reading fp32 weights, adding tensors, dropping what no node reads.</summary>
internal static class GraphEdits
{
    /// <summary>ONNX Runtime's own operators (<c>DynamicQuantizeMatMul</c>, <c>MatMulNBits</c>, the fusions).</summary>
    public const string MicrosoftDomain = "com.microsoft";

    /// <summary>A MatMul or Gemm of the default ONNX domain: the dense products the passes rewrite.</summary>
    public static bool IsDenseProduct(NodeProto node) => node.OpType is "MatMul" or "Gemm" && node.Domain is "" or "ai.onnx";

    /// <summary>A constant 2-D fp32 matrix: weights a pass can quantize or prune.</summary>
    public static bool IsFloatMatrix(TensorProto tensor) => tensor.DataType == (int)TensorProto.Types.DataType.Float && tensor.Dims.Count == 2;

    public static void ImportMicrosoftDomain(ModelProto model)
    {
        if (!model.OpsetImport.Any(opset => opset.Domain == MicrosoftDomain))
        {
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = MicrosoftDomain, Version = 1 });
        }
    }

    public static float[] Floats(TensorProto tensor) =>
        tensor.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray() : [.. tensor.FloatData];

    public static TensorProto Tensor(string name, TensorProto.Types.DataType type, long[] dims, ReadOnlySpan<byte> data)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(data) };
        tensor.Dims.AddRange(dims);
        return tensor;
    }

    /// <summary>Drops the fp32 weights no node reads any more.</summary>
    public static void RemoveUnused(GraphProto graph)
    {
        // Names graph inputs or outputs also carry stay: an initializer listed as an input is an overridable default.
        var read = graph.Node.SelectMany(node => node.Input).Concat(graph.Input.Select(input => input.Name)).Concat(graph.Output.Select(output => output.Name))
            .ToHashSet(StringComparer.Ordinal);
        for (var i = graph.Initializer.Count - 1; i >= 0; i--)
        {
            if (!read.Contains(graph.Initializer[i].Name))
            {
                graph.Initializer.RemoveAt(i);
            }
        }
    }

    /// <summary>Finishes a quantization pass: drops the replaced weights, imports ONNX Runtime's domain, writes the model, reports.</summary>
    public static QuantizationReport WriteQuantized(ModelProto model, string modelPath, string outputPath, List<string> quantized, List<(string Node, string Reason)> skipped)
    {
        RemoveUnused(model.Graph);
        if (quantized.Count > 0)
        {
            ImportMicrosoftDomain(model);
        }

        OnnxModelEditor.Write(model, outputPath);
        return new QuantizationReport(quantized, skipped, new FileInfo(modelPath).Length, new FileInfo(outputPath).Length);
    }
}
