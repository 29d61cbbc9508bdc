using Google.Protobuf;
using Onnx;

namespace Turbine.Onnx.Scanning;

/// <summary>
/// An initializer as the scan sees it: its name, declared type and shape, how much data the file really holds for it,
/// and where that data lives, read without keeping the data itself.
/// </summary>
internal sealed class InitializerHeader
{
    public string Name { get; private set; } = string.Empty;

    public List<long> Dims { get; } = [];

    public int DataType { get; private set; }

    /// <summary>Bytes of <c>raw_data</c>; -1 when the tensor has none.</summary>
    public long RawBytes { get; private set; } = -1;

    /// <summary>Values in the typed fields (<c>float_data</c>, <c>int32_data</c>, <c>string_data</c>, ...).</summary>
    public long TypedValues { get; private set; }

    public bool IsExternal { get; private set; }

    public List<StringStringEntryProto> ExternalData { get; } = [];

    /// <summary>The first string value holding control characters, if any (string tensors only).</summary>
    public string? StringWithControlCharacters { get; private set; }

    // TensorProto field numbers from onnx.proto.
    private const int Dimensions = 1;
    private const int Type = 2;
    private const int FloatData = 4;
    private const int Int32Data = 5;
    private const int StringData = 6;
    private const int Int64Data = 7;
    private const int TensorName = 8;
    private const int RawData = 9;
    private const int DoubleData = 10;
    private const int UInt64Data = 11;
    private const int ExternalDataEntries = 13;
    private const int DataLocation = 14;

    /// <summary>Reads one TensorProto message ending at <paramref name="end"/>, counting its values without keeping them.</summary>
    public static InitializerHeader Read(CodedInputStream input, long end)
    {
        var header = new InitializerHeader();
        while (input.Position < end)
        {
            var tag = input.ReadTag();
            var packed = WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited;
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case Dimensions when packed:
                    ReadPacked(input, () => header.Dims.Add(input.ReadInt64()));
                    break;
                case Dimensions:
                    header.Dims.Add(input.ReadInt64());
                    break;
                case Type:
                    header.DataType = input.ReadInt32();
                    break;
                case TensorName:
                    header.Name = input.ReadString();
                    break;
                case RawData:
                    header.RawBytes = SkipBytes(input);
                    break;
                case StringData:
                    header.CountString(input.ReadBytes());
                    break;
                case FloatData or DoubleData when packed:
                    header.TypedValues += SkipBytes(input) / (WireFormat.GetTagFieldNumber(tag) == FloatData ? sizeof(float) : sizeof(double));
                    break;
                case Int32Data or Int64Data or UInt64Data when packed:
                    ReadPacked(input, () => { input.ReadUInt64(); header.TypedValues++; });
                    break;
                case FloatData or DoubleData or Int32Data or Int64Data or UInt64Data:
                    input.SkipLastField();
                    header.TypedValues++;
                    break;
                case ExternalDataEntries:
                    header.ExternalData.Add(StringStringEntryProto.Parser.ParseFrom(input.ReadBytes()));
                    break;
                case DataLocation:
                    header.IsExternal = input.ReadEnum() == (int)TensorProto.Types.DataLocation.External;
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }

        return header;
    }

    /// <summary>The header of a tensor already parsed whole (a subgraph's initializer, a Constant node's value).</summary>
    public static InitializerHeader Of(TensorProto tensor)
    {
        var header = new InitializerHeader
        {
            Name = tensor.Name,
            DataType = tensor.DataType,
            RawBytes = tensor.RawData.IsEmpty ? -1 : tensor.RawData.Length,
            TypedValues = (long)tensor.FloatData.Count + tensor.Int32Data.Count + tensor.Int64Data.Count + tensor.DoubleData.Count + tensor.Uint64Data.Count,
            IsExternal = tensor.DataLocation == TensorProto.Types.DataLocation.External,
        };
        header.Dims.AddRange(tensor.Dims);
        header.ExternalData.AddRange(tensor.ExternalData);
        foreach (var value in tensor.StringData)
        {
            header.CountString(value);
        }

        return header;
    }

    private void CountString(ByteString value)
    {
        TypedValues++;
        if (StringWithControlCharacters is null && ControlCharacters.InText(value.ToStringUtf8()))
        {
            StringWithControlCharacters = value.ToStringUtf8();
        }
    }

    /// <summary>Skips the length-delimited field just tagged and returns its length (the weights are never read).</summary>
    private static long SkipBytes(CodedInputStream input)
    {
        var start = input.Position;
        input.SkipLastField();
        var total = input.Position - start;
        for (var prefix = 1; prefix <= 5; prefix++)
        {
            if (CodedOutputStream.ComputeLengthSize((int)(total - prefix)) == prefix)
            {
                return total - prefix;
            }
        }

        throw new InvalidDataException("a length-delimited field has an impossible length prefix");
    }

    private static void ReadPacked(CodedInputStream input, Action readOne)
    {
        var end = OnnxModelOutline.EndOf(input);
        while (input.Position < end)
        {
            readOne();
        }
    }
}
