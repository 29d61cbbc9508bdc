using Google.Protobuf;
using Onnx;

namespace Turbine.Onnx;

/// <summary>
/// Reads what inspection needs from a model file (graph inputs, outputs, and each initializer's name and external-data
/// entries) and skips the rest as it streams past: parsing the whole ModelProto would copy every weight into managed
/// arrays, twice the model's size in garbage per load and most of a large model's load time outside ONNX Runtime.
/// </summary>
internal static class OnnxGraphSkeleton
{
    // Field numbers from onnx.proto: ModelProto.graph; GraphProto.initializer, input, output; TensorProto.name,
    // external_data, data_location.
    private const int ModelGraph = 7;
    private const int GraphInitializer = 5;
    private const int GraphInput = 11;
    private const int GraphOutput = 12;
    private const int TensorName = 8;
    private const int TensorExternalData = 13;
    private const int TensorDataLocation = 14;

    /// <returns>The graph's inputs, outputs and data-less initializers; null when the file has no graph.</returns>
    /// <exception cref="InvalidProtocolBufferException">The file is not a protobuf message.</exception>
    public static GraphProto? Read(string path)
    {
        using var stream = File.OpenRead(path);
        using var input = new CodedInputStream(stream);
        GraphProto? graph = null;
        while (input.ReadTag() is var tag && tag != 0)
        {
            if (Is(tag, ModelGraph, WireFormat.WireType.LengthDelimited))
            {
                graph = ReadGraph(input, input.Position + input.ReadLength());
            }
            else
            {
                input.SkipLastField();
            }
        }

        return graph;
    }

    private static GraphProto ReadGraph(CodedInputStream input, long end)
    {
        var graph = new GraphProto();
        while (input.Position < end)
        {
            var tag = input.ReadTag();
            if (Is(tag, GraphInput, WireFormat.WireType.LengthDelimited))
            {
                graph.Input.Add(ValueInfoProto.Parser.ParseFrom(input.ReadBytes()));
            }
            else if (Is(tag, GraphOutput, WireFormat.WireType.LengthDelimited))
            {
                graph.Output.Add(ValueInfoProto.Parser.ParseFrom(input.ReadBytes()));
            }
            else if (Is(tag, GraphInitializer, WireFormat.WireType.LengthDelimited))
            {
                graph.Initializer.Add(ReadInitializer(input, input.Position + input.ReadLength()));
            }
            else
            {
                input.SkipLastField();
            }
        }

        return graph;
    }

    private static TensorProto ReadInitializer(CodedInputStream input, long end)
    {
        var tensor = new TensorProto();
        while (input.Position < end)
        {
            var tag = input.ReadTag();
            if (Is(tag, TensorName, WireFormat.WireType.LengthDelimited))
            {
                tensor.Name = input.ReadString();
            }
            else if (Is(tag, TensorExternalData, WireFormat.WireType.LengthDelimited))
            {
                tensor.ExternalData.Add(StringStringEntryProto.Parser.ParseFrom(input.ReadBytes()));
            }
            else if (Is(tag, TensorDataLocation, WireFormat.WireType.Varint))
            {
                tensor.DataLocation = (TensorProto.Types.DataLocation)input.ReadEnum();
            }
            else
            {
                input.SkipLastField(); // raw_data and the typed data fields: the weights themselves
            }
        }

        return tensor;
    }

    private static bool Is(uint tag, int field, WireFormat.WireType type) =>
        WireFormat.GetTagFieldNumber(tag) == field && WireFormat.GetTagWireType(tag) == type;
}
