using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace Turbine.Onnx.Tools.Optimization;

/// <summary>
/// fp16 conversion for GPUs: every fp32 weight becomes fp16 and the graph computes in fp16, while the model keeps its
/// fp32 inputs and outputs (a Cast after each fp32 input and before each fp32 output), so clients and configs do not
/// change. Nodes of the operators named as fp32-only keep computing in fp32 between casts. On CPU, ONNX Runtime runs
/// most fp16 operators by casting back to fp32 around them: the file is half the size, the model is not faster (and
/// usually slower); the speed is a GPU's (tensor cores).
/// </summary>
public static class Fp16Pass
{
    private const int Float = (int)TensorProto.Types.DataType.Float;
    private const int Float16 = (int)TensorProto.Types.DataType.Float16;

    /// <summary>Operators kept in fp32 by default: exponentials and logarithms overflow or lose too much in fp16.</summary>
    public static IReadOnlySet<string> DefaultFp32Operators { get; } = new HashSet<string>(StringComparer.Ordinal) { "Exp", "Log" };

    public static Fp16Report Run(string modelPath, string outputPath, IReadOnlySet<string>? fp32Operators = null)
    {
        fp32Operators ??= DefaultFp32Operators;
        var model = OnnxModelEditor.Read(modelPath);
        var graph = model.Graph;
        var converted = 0;
        foreach (var tensor in graph.Initializer.Where(tensor => tensor.DataType == Float))
        {
            var values = GraphEdits.Floats(tensor);
            var halves = values.Select(value => (Half)value).ToArray();
            tensor.FloatData.Clear();
            tensor.DataType = Float16;
            tensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(halves.AsSpan()));
            converted++;
        }

        var nodes = new List<NodeProto>();
        var initializerTypes = graph.Initializer.ToDictionary(tensor => tensor.Name, tensor => tensor.DataType, StringComparer.Ordinal);

        // Inputs stay fp32: each is cast to fp16 once and the graph reads the cast.
        var renamed = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var input in graph.Input.Where(input => input.Type?.TensorType?.ElemType == Float && !initializerTypes.ContainsKey(input.Name)))
        {
            renamed[input.Name] = input.Name + "_fp16";
            nodes.Add(Cast(input.Name, input.Name + "_fp16", Float16));
        }

        var fp32Nodes = 0;
        foreach (var node in graph.Node)
        {
            for (var i = 0; i < node.Input.Count; i++)
            {
                if (renamed.TryGetValue(node.Input[i], out var name))
                {
                    node.Input[i] = name;
                }
            }

            foreach (var attribute in node.Attribute.Where(a => node.OpType == "Cast" && a.Name == "to" && a.I == Float))
            {
                attribute.I = Float16; // casts inside the graph now land in fp16
            }

            if (fp32Operators.Contains(node.OpType))
            {
                fp32Nodes++;
                KeepFp32(node, nodes, initializerTypes);
                continue;
            }

            nodes.Add(node);
        }

        // Outputs stay fp32: the node that made each now makes "<name>_fp16", cast back under the output's name.
        foreach (var output in graph.Output.Where(output => output.Type?.TensorType?.ElemType == Float))
        {
            foreach (var producer in nodes.Where(node => node.Output.Contains(output.Name)).ToList())
            {
                producer.Output[producer.Output.IndexOf(output.Name)] = output.Name + "_fp16";
                nodes.Add(Cast(output.Name + "_fp16", output.Name, Float));
            }
        }

        graph.Node.Clear();
        graph.Node.AddRange(nodes);
        graph.ValueInfo.Clear(); // recorded fp32 types of intermediate values would now be wrong
        OnnxModelEditor.Write(model, outputPath);
        return new Fp16Report(converted, fp32Nodes, new FileInfo(modelPath).Length, new FileInfo(outputPath).Length);
    }

    /// <summary>A node that computes in fp32: its inputs cast up from fp16 (constants of other types left alone) and its outputs cast back down.</summary>
    private static void KeepFp32(NodeProto node, List<NodeProto> nodes, Dictionary<string, int> initializerTypes)
    {
        for (var i = 0; i < node.Input.Count; i++)
        {
            if (node.Input[i].Length == 0 || (initializerTypes.TryGetValue(node.Input[i], out var type) && type != Float16))
            {
                continue;
            }

            var up = $"{node.Name}_in{i}_fp32";
            nodes.Add(Cast(node.Input[i], up, Float));
            node.Input[i] = up;
        }

        var outputs = node.Output.ToList();
        for (var i = 0; i < outputs.Count; i++)
        {
            node.Output[i] = outputs[i] + "_fp32";
        }

        nodes.Add(node);
        for (var i = 0; i < outputs.Count; i++)
        {
            nodes.Add(Cast(outputs[i] + "_fp32", outputs[i], Float16));
        }
    }

    private static NodeProto Cast(string input, string output, int to)
    {
        var node = new NodeProto { Name = $"cast_{input}_to_{output}", OpType = "Cast", Input = { input }, Output = { output } };
        node.Attribute.Add(new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = to });
        return node;
    }
}

/// <summary>What the fp16 conversion did.</summary>
/// <param name="Initializers">fp32 weights now stored as fp16.</param>
/// <param name="Fp32Nodes">Nodes kept computing in fp32.</param>
/// <param name="BytesBefore">The original file's size.</param>
/// <param name="BytesAfter">The converted file's size.</param>
public sealed record Fp16Report(int Initializers, int Fp32Nodes, long BytesBefore, long BytesAfter);
