using Google.Protobuf;
using Onnx;

namespace Turbine.Onnx.Scanning;

/// <summary>
/// What inspection and the security scan read from a model file: the top-level graph's inputs, outputs and nodes,
/// each initializer's header (never its weights), and the model's metadata and local functions.
/// </summary>
internal sealed class OnnxModelOutline
{
    public List<ValueInfoProto> Inputs { get; } = [];

    public List<ValueInfoProto> Outputs { get; } = [];

    public List<InitializerHeader> Initializers { get; } = [];

    /// <summary>The top-level graph's nodes, parsed whole (with their subgraphs and any Constant tensors).</summary>
    public List<NodeProto> Nodes { get; } = [];

    public List<StringStringEntryProto> Metadata { get; } = [];

    public List<FunctionProto> Functions { get; } = [];

    /// <summary>Producer name and version, model domain and graph name: text that tools display.</summary>
    public List<(string Field, string Value)> Labels { get; } = [];

    public bool HasGraph { get; set; }

    /// <summary>Reads the outline, streaming past weights: parsing the whole ModelProto would copy every weight into
    /// managed arrays, twice the model's size in garbage per load and most of a large model's load time outside ONNX
    /// Runtime.</summary>
    /// <exception cref="InvalidProtocolBufferException">The file is not a protobuf message, or nests past the parser's limit.</exception>
    public static OnnxModelOutline Read(string path)
    {
        using var stream = File.OpenRead(path);
        using var input = new CodedInputStream(stream);
        var outline = new OnnxModelOutline();
        while (input.ReadTag() is var tag && tag != 0)
        {
            switch (Field(tag))
            {
                case (ModelGraph, WireFormat.WireType.LengthDelimited):
                    outline.HasGraph = true;
                    outline.ReadGraph(input, EndOf(input));
                    break;
                case (ModelMetadata, WireFormat.WireType.LengthDelimited):
                    outline.Metadata.Add(StringStringEntryProto.Parser.ParseFrom(input.ReadBytes()));
                    break;
                case (ModelFunctions, WireFormat.WireType.LengthDelimited):
                    outline.Functions.Add(FunctionProto.Parser.ParseFrom(input.ReadBytes()));
                    break;
                case (ModelProducerName, WireFormat.WireType.LengthDelimited):
                    outline.Labels.Add(("producer_name", input.ReadString()));
                    break;
                case (ModelProducerVersion, WireFormat.WireType.LengthDelimited):
                    outline.Labels.Add(("producer_version", input.ReadString()));
                    break;
                case (ModelDomain, WireFormat.WireType.LengthDelimited):
                    outline.Labels.Add(("domain", input.ReadString()));
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }

        return outline;
    }

    // Field numbers from onnx.proto.
    private const int ModelProducerName = 2;
    private const int ModelProducerVersion = 3;
    private const int ModelDomain = 4;
    private const int ModelGraph = 7;
    private const int ModelMetadata = 14;
    private const int ModelFunctions = 25;
    private const int GraphNode = 1;
    private const int GraphName = 2;
    private const int GraphInitializer = 5;
    private const int GraphInput = 11;
    private const int GraphOutput = 12;
    private const int GraphSparseInitializer = 15;
    private const int GraphMetadata = 16;

    private void ReadGraph(CodedInputStream input, long end)
    {
        while (input.Position < end)
        {
            var tag = input.ReadTag();
            switch (Field(tag))
            {
                case (GraphNode, WireFormat.WireType.LengthDelimited):
                    Nodes.Add(NodeProto.Parser.ParseFrom(input.ReadBytes()));
                    break;
                case (GraphInput, WireFormat.WireType.LengthDelimited):
                    Inputs.Add(ValueInfoProto.Parser.ParseFrom(input.ReadBytes()));
                    break;
                case (GraphOutput, WireFormat.WireType.LengthDelimited):
                    Outputs.Add(ValueInfoProto.Parser.ParseFrom(input.ReadBytes()));
                    break;
                case (GraphInitializer, WireFormat.WireType.LengthDelimited):
                    Initializers.Add(InitializerHeader.Read(input, EndOf(input)));
                    break;
                case (GraphSparseInitializer, WireFormat.WireType.LengthDelimited):
                    // Rare enough to parse whole; the scan checks the values tensor like any other.
                    var sparse = SparseTensorProto.Parser.ParseFrom(input.ReadBytes());
                    Initializers.Add(InitializerHeader.Of(sparse.Values));
                    break;
                case (GraphName, WireFormat.WireType.LengthDelimited):
                    Labels.Add(("graph name", input.ReadString()));
                    break;
                case (GraphMetadata, WireFormat.WireType.LengthDelimited):
                    Metadata.Add(StringStringEntryProto.Parser.ParseFrom(input.ReadBytes()));
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }
    }

    private static (int, WireFormat.WireType) Field(uint tag) => (WireFormat.GetTagFieldNumber(tag), WireFormat.GetTagWireType(tag));

    /// <summary>Reads a length prefix and returns where the field it announces ends (the prefix read first: an
    /// expression adding the position to the length would take the position before the prefix).</summary>
    internal static long EndOf(CodedInputStream input)
    {
        var length = input.ReadLength();
        return input.Position + length;
    }
}
