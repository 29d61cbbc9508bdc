using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace Turbine.Onnx.Tools;

/// <summary>
/// Builds an ONNX model graph in code: inputs, outputs, initializers and nodes. Used by tests, samples and the
/// demo repository so that no model is ever fetched or produced by Python. A dimension of -1 becomes a symbolic
/// (dynamic) dimension.
/// </summary>
public sealed class OnnxModelBuilder
{
    private readonly GraphProto _graph;
    private readonly long _opset;
    private int _nextName;

    /// <summary>Starts a model named <paramref name="graphName"/> against the default ONNX opset <paramref name="opset"/>.</summary>
    public OnnxModelBuilder(string graphName, long opset = 17)
    {
        _graph = new GraphProto { Name = graphName };
        _opset = opset;
    }

    /// <summary>Declares a graph input.</summary>
    public OnnxModelBuilder Input(string name, DataType type, params long[] dims)
    {
        _graph.Input.Add(ValueInfo(name, type, dims));
        return this;
    }

    /// <summary>Declares a graph output.</summary>
    public OnnxModelBuilder Output(string name, DataType type, params long[] dims)
    {
        _graph.Output.Add(ValueInfo(name, type, dims));
        return this;
    }

    /// <summary>Adds a constant FP32 weight tensor.</summary>
    public OnnxModelBuilder Initializer(string name, long[] dims, ReadOnlySpan<float> values) =>
        Initializer(name, DataType.Fp32, dims, MemoryMarshal.AsBytes(values));

    /// <summary>Adds a constant INT64 tensor (shapes, axes).</summary>
    public OnnxModelBuilder Initializer(string name, long[] dims, ReadOnlySpan<long> values) =>
        Initializer(name, DataType.Int64, dims, MemoryMarshal.AsBytes(values));

    /// <summary>Adds a constant tensor from little-endian raw bytes.</summary>
    public OnnxModelBuilder Initializer(string name, DataType type, long[] dims, ReadOnlySpan<byte> rawData)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)OnnxDataTypes.ToOnnx(type), RawData = ByteString.CopyFrom(rawData) };
        tensor.Dims.AddRange(dims);
        _graph.Initializer.Add(tensor);
        return this;
    }

    /// <summary>Adds a node; attributes are given as (name, value) with int, long, float, string or long[] values.</summary>
    public OnnxModelBuilder Node(string opType, string[] inputs, string[] outputs, params (string Name, object Value)[] attributes)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(attributes);
        var node = new NodeProto { OpType = opType, Name = $"{opType}_{_nextName++}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        foreach (var (attributeName, value) in attributes)
        {
            node.Attribute.Add(Attribute(attributeName, value));
        }

        _graph.Node.Add(node);
        return this;
    }

    /// <summary>The finished model.</summary>
    public ModelProto Build()
    {
        var model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "turbine",
            ProducerVersion = "1",
            Graph = _graph.Clone(),
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = _opset });
        return model;
    }

    /// <summary>The finished model, serialized.</summary>
    public byte[] ToBytes() => Build().ToByteArray();

    internal static ValueInfoProto ValueInfo(string name, DataType type, long[] dims)
    {
        var shape = new TensorShapeProto();
        for (var i = 0; i < dims.Length; i++)
        {
            shape.Dim.Add(dims[i] < 0
                ? new TensorShapeProto.Types.Dimension { DimParam = i == 0 ? "batch" : $"{name}_d{i}" }
                : new TensorShapeProto.Types.Dimension { DimValue = dims[i] });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)OnnxDataTypes.ToOnnx(type), Shape = shape } },
        };
    }

    private static AttributeProto Attribute(string name, object value) => value switch
    {
        int i => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = i },
        long l => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = l },
        float f => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = f },
        string s => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(s) },
        long[] ints => WithInts(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints }, ints),
        _ => throw new ArgumentException($"attribute '{name}': unsupported value type {value.GetType().Name}", nameof(value)),
    };

    private static AttributeProto WithInts(AttributeProto attribute, long[] ints)
    {
        attribute.Ints.AddRange(ints);
        return attribute;
    }
}
