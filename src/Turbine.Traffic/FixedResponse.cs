using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Turbine.Traffic;

/// <summary>One output of a route's fixed default response, kept as bytes and copied into every answer that uses it.</summary>
public sealed record FixedTensor(string Name, DataType DataType, long[] Shape, byte[] Data)
{
    public Tensor ToTensor() => new(Name, DataType, [.. Shape], TensorBuffer.CopyOf(Data));
}

/// <summary>
/// Reads and writes a route's <c>default_response</c>: <c>{"outputs":[{"name","datatype","shape","data"}]}</c> in
/// KServe's JSON tensor form (flat <c>data</c>; BOOL, INT32, INT64, FP32, FP64 or BYTES as strings).
/// </summary>
public static class FixedResponse
{
    private const int MaxOutputs = 16;
    private const int MaxBytes = 64 * 1024;

    public static InferenceError? Read(JsonElement element, out IReadOnlyList<FixedTensor>? outputs)
    {
        outputs = null;
        var rules = InferenceError.Invalid(
            $"'default_response' needs 'outputs': 1 to {MaxOutputs} tensors with 'name', 'datatype' (BOOL, INT32, INT64, FP32, FP64 or BYTES), " +
            $"'shape' and flat 'data' matching it, {MaxBytes / 1024} KiB at most");
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty("outputs", out var array) ||
            array.ValueKind != JsonValueKind.Array || array.GetArrayLength() is 0 or > MaxOutputs)
        {
            return rules;
        }

        var list = new List<FixedTensor>();
        var total = 0;
        foreach (var output in array.EnumerateArray())
        {
            var tensor = ReadTensor(output);
            if (tensor is null || (total += tensor.Data.Length) > MaxBytes)
            {
                return rules;
            }

            list.Add(tensor);
        }

        outputs = list;
        return null;
    }

    public static void Write(Utf8JsonWriter writer, IReadOnlyList<FixedTensor> outputs)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(outputs);
        writer.WriteStartObject("default_response");
        writer.WriteStartArray("outputs");
        foreach (var output in outputs)
        {
            writer.WriteStartObject();
            writer.WriteString("name", output.Name);
            writer.WriteString("datatype", output.DataType.ToWireName());
            writer.WriteStartArray("shape");
            foreach (var dimension in output.Shape)
            {
                writer.WriteNumberValue(dimension);
            }

            writer.WriteEndArray();
            writer.WriteStartArray("data");
            WriteValues(writer, output);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static FixedTensor? ReadTensor(JsonElement output)
    {
        if (output.ValueKind != JsonValueKind.Object ||
            !output.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String || name.GetString() is not { Length: > 0 and <= 256 } text ||
            !output.TryGetProperty("datatype", out var datatype) || datatype.ValueKind != JsonValueKind.String || !DataTypes.TryParse(datatype.GetString(), out var type) ||
            !output.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array || shapeElement.GetArrayLength() > 8 ||
            !output.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var shape = new long[shapeElement.GetArrayLength()];
        var index = 0;
        foreach (var dimension in shapeElement.EnumerateArray())
        {
            if (!dimension.TryGetInt64(out shape[index]) || shape[index++] is < 0 or > MaxBytes)
            {
                return null;
            }
        }

        if (!Shapes.TryGetElementCount(shape, out var count) || count != data.GetArrayLength() || count > MaxBytes)
        {
            return null;
        }

        var bytes = Encode(type, data);
        return bytes is null ? null : new FixedTensor(text, type, shape, bytes);
    }

    private static byte[]? Encode(DataType type, JsonElement data)
    {
        using var stream = new MemoryStream();
        Span<byte> scratch = stackalloc byte[8];
        foreach (var value in data.EnumerateArray())
        {
            switch (type)
            {
                case DataType.Bool when value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                    stream.WriteByte(value.GetBoolean() ? (byte)1 : (byte)0);
                    break;
                case DataType.Int32 when value.TryGetInt32(out var i32):
                    BinaryPrimitives.WriteInt32LittleEndian(scratch, i32);
                    stream.Write(scratch[..4]);
                    break;
                case DataType.Int64 when value.TryGetInt64(out var i64):
                    BinaryPrimitives.WriteInt64LittleEndian(scratch, i64);
                    stream.Write(scratch[..8]);
                    break;
                case DataType.Fp32 when value.ValueKind == JsonValueKind.Number:
                    BinaryPrimitives.WriteSingleLittleEndian(scratch, value.GetSingle());
                    stream.Write(scratch[..4]);
                    break;
                case DataType.Fp64 when value.ValueKind == JsonValueKind.Number:
                    BinaryPrimitives.WriteDoubleLittleEndian(scratch, value.GetDouble());
                    stream.Write(scratch[..8]);
                    break;
                case DataType.Bytes when value.ValueKind == JsonValueKind.String:
                    var utf8 = Encoding.UTF8.GetBytes(value.GetString()!);
                    BinaryPrimitives.WriteInt32LittleEndian(scratch, utf8.Length);
                    stream.Write(scratch[..4]);
                    stream.Write(utf8);
                    break;
                default:
                    return null;
            }

            if (stream.Length > MaxBytes)
            {
                return null;
            }
        }

        return stream.ToArray();
    }

    private static void WriteValues(Utf8JsonWriter writer, FixedTensor tensor)
    {
        var data = tensor.Data.AsSpan();
        while (!data.IsEmpty)
        {
            switch (tensor.DataType)
            {
                case DataType.Bool: writer.WriteBooleanValue(data[0] != 0); data = data[1..]; break;
                case DataType.Int32: writer.WriteNumberValue(BinaryPrimitives.ReadInt32LittleEndian(data)); data = data[4..]; break;
                case DataType.Int64: writer.WriteNumberValue(BinaryPrimitives.ReadInt64LittleEndian(data)); data = data[8..]; break;
                case DataType.Fp32: writer.WriteNumberValue(BinaryPrimitives.ReadSingleLittleEndian(data)); data = data[4..]; break;
                case DataType.Fp64: writer.WriteNumberValue(BinaryPrimitives.ReadDoubleLittleEndian(data)); data = data[8..]; break;
                default:
                    var length = BinaryPrimitives.ReadInt32LittleEndian(data);
                    writer.WriteStringValue(Encoding.UTF8.GetString(data.Slice(4, length)));
                    data = data[(4 + length)..];
                    break;
            }
        }
    }
}
