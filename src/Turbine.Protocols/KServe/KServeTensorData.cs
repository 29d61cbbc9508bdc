using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Turbine.Protocols.KServe;

/// <summary>
/// JSON <c>data</c> arrays to tensor bytes and back. Nested arrays are flattened in row-major order, as the
/// protocol allows. The element count must match the shape exactly.
/// </summary>
public static class KServeTensorData
{
    /// <summary>Decodes one <c>data</c> value into a rented buffer.</summary>
    internal static InferenceError? Decode(ReadOnlySpan<byte> json, string name, DataType type, long count, KServeLimits limits, out TensorBuffer? buffer)
    {
        buffer = null;
        if (type == DataType.Bytes)
        {
            return DecodeStrings(json, name, count, limits, out buffer);
        }

        if (!Shapes.TryGetByteSize(count, type, limits.MaxTensorBytes, out var byteSize))
        {
            return InferenceError.Invalid($"input '{name}' would need more than {limits.MaxTensorBytes} bytes; the shape is too large");
        }

        // Each JSON element takes at least one byte plus a separator, so a short body cannot claim a huge tensor.
        if (count > json.Length)
        {
            return InferenceError.Invalid($"input '{name}': 'data' holds fewer elements than its shape needs ({count})");
        }

        var rented = TensorBuffer.Rent((int)byteSize);
        var span = rented.Span;
        var size = type.ElementSize();
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = limits.MaxJsonDepth });
        long index = 0;
        while (reader.Read())
        {
            if (reader.TokenType is JsonTokenType.StartArray or JsonTokenType.EndArray)
            {
                continue;
            }

            if (index == count)
            {
                rented.Dispose();
                return InferenceError.Invalid($"input '{name}': 'data' holds more elements than its shape needs ({count})");
            }

            if (!TryWriteElement(ref reader, type, span.Slice((int)(index * size), size)))
            {
                rented.Dispose();
                return InferenceError.Invalid($"input '{name}': element {index} of 'data' is not a valid {type.ToWireName()} value");
            }

            index++;
        }

        if (index != count)
        {
            rented.Dispose();
            return InferenceError.Invalid($"input '{name}': 'data' holds {index} elements but its shape needs {count}");
        }

        buffer = rented;
        return null;
    }

    private static bool TryWriteElement(ref Utf8JsonReader reader, DataType type, Span<byte> destination)
    {
        if (type == DataType.Bool)
        {
            if (reader.TokenType is not JsonTokenType.True and not JsonTokenType.False)
            {
                return false;
            }

            destination[0] = reader.TokenType == JsonTokenType.True ? (byte)1 : (byte)0;
            return true;
        }

        if (reader.TokenType != JsonTokenType.Number)
        {
            return false;
        }

        switch (type)
        {
            case DataType.UInt8: return reader.TryGetByte(out destination[0]);
            case DataType.Int8: return Write<sbyte>(reader.TryGetSByte(out var i8), i8, destination);
            case DataType.UInt16: return Write<ushort>(reader.TryGetUInt16(out var u16), u16, destination);
            case DataType.Int16: return Write<short>(reader.TryGetInt16(out var i16), i16, destination);
            case DataType.UInt32: return Write<uint>(reader.TryGetUInt32(out var u32), u32, destination);
            case DataType.Int32: return Write<int>(reader.TryGetInt32(out var i32), i32, destination);
            case DataType.UInt64: return Write<ulong>(reader.TryGetUInt64(out var u64), u64, destination);
            case DataType.Int64: return Write<long>(reader.TryGetInt64(out var i64), i64, destination);
            case DataType.Fp16: return Write<Half>(reader.TryGetDouble(out var h), (Half)h, destination);
            case DataType.Bf16: return Write<ushort>(reader.TryGetSingle(out var b), BFloat16Bits.FromSingle(b), destination);
            case DataType.Fp32: return Write<float>(reader.TryGetSingle(out var f), f, destination);
            case DataType.Fp64: return Write<double>(reader.TryGetDouble(out var d), d, destination);
            default: return false;
        }
    }

    private static bool Write<T>(bool parsed, T value, Span<byte> destination)
        where T : unmanaged
    {
        if (parsed)
        {
            MemoryMarshal.Write(destination, in value);
        }

        return parsed;
    }

    private static InferenceError? DecodeStrings(ReadOnlySpan<byte> json, string name, long count, KServeLimits limits, out TensorBuffer? buffer)
    {
        buffer = null;
        var writer = new ArrayBufferWriter<byte>(Math.Min(json.Length + 64, 1 << 20));
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = limits.MaxJsonDepth });
        long index = 0;
        while (reader.Read())
        {
            if (reader.TokenType is JsonTokenType.StartArray or JsonTokenType.EndArray)
            {
                continue;
            }

            if (reader.TokenType != JsonTokenType.String)
            {
                return InferenceError.Invalid($"input '{name}': element {index} of 'data' is not a string; BYTES data are JSON strings");
            }

            if (++index > count)
            {
                return InferenceError.Invalid($"input '{name}': 'data' holds more elements than its shape needs ({count})");
            }

            var length = reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length;
            var destination = writer.GetSpan(4 + length);
            var written = reader.CopyString(destination[4..]);
            BinaryPrimitives.WriteInt32LittleEndian(destination, written);
            writer.Advance(4 + written);
        }

        if (index != count)
        {
            return InferenceError.Invalid($"input '{name}': 'data' holds {index} elements but its shape needs {count}");
        }

        buffer = TensorBuffer.CopyOf(writer.WrittenSpan);
        return null;
    }

    /// <summary>
    /// Writes one tensor object: name, datatype, shape, then either its <c>data</c> or, when it travels in the binary
    /// extension, <c>parameters.binary_data_size</c> (the caller appends the bytes after the JSON).
    /// </summary>
    public static void WriteTensor(Utf8JsonWriter writer, Tensor tensor, bool binary)
    {
        WriteTensorStart(writer, tensor);
        if (binary)
        {
            writer.WriteStartObject("parameters"u8);
            writer.WriteNumber("binary_data_size"u8, tensor.Data.Length);
            writer.WriteEndObject();
        }
        else
        {
            Write(writer, tensor);
        }

        writer.WriteEndObject();
    }

    /// <summary>Writes a tensor that went to shared memory: its name, type and shape, and its place as parameters; no data.</summary>
    public static void WriteSharedTensor(Utf8JsonWriter writer, Tensor tensor, SharedMemoryRef place)
    {
        WriteTensorStart(writer, tensor);
        KServeParameters.Write(writer, SharedMemoryOutputs.ParametersOf(place));
        writer.WriteEndObject();
    }

    /// <summary>Opens a tensor's object: its name, datatype and shape.</summary>
    private static void WriteTensorStart(Utf8JsonWriter writer, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(tensor);
        writer.WriteStartObject();
        writer.WriteString("name"u8, tensor.Name);
        writer.WriteString("datatype"u8, tensor.DataType.ToWireName());
        KServeResponseEncoder.WriteShape(writer, tensor.Shape);
    }

    /// <summary>Writes a tensor's elements as a flat JSON array.</summary>
    public static void Write(Utf8JsonWriter writer, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(tensor);
        writer.WriteStartArray("data");
        ReadOnlySpan<byte> data = tensor.Data.Span;
        switch (tensor.DataType)
        {
            case DataType.Bool:
                foreach (var b in data)
                {
                    writer.WriteBooleanValue(b != 0);
                }

                break;
            case DataType.UInt8:
                foreach (var b in data)
                {
                    writer.WriteNumberValue(b);
                }

                break;
            case DataType.Int8:
                foreach (var v in MemoryMarshal.Cast<byte, sbyte>(data)) { writer.WriteNumberValue(v); }
                break;
            case DataType.UInt16:
                foreach (var v in MemoryMarshal.Cast<byte, ushort>(data)) { writer.WriteNumberValue(v); }
                break;
            case DataType.Int16:
                foreach (var v in MemoryMarshal.Cast<byte, short>(data)) { writer.WriteNumberValue(v); }
                break;
            case DataType.UInt32:
                foreach (var v in MemoryMarshal.Cast<byte, uint>(data)) { writer.WriteNumberValue(v); }
                break;
            case DataType.Int32:
                foreach (var v in MemoryMarshal.Cast<byte, int>(data)) { writer.WriteNumberValue(v); }
                break;
            case DataType.UInt64:
                foreach (var v in MemoryMarshal.Cast<byte, ulong>(data)) { writer.WriteNumberValue(v); }
                break;
            case DataType.Int64:
                foreach (var v in MemoryMarshal.Cast<byte, long>(data)) { writer.WriteNumberValue(v); }
                break;
            case DataType.Fp16:
                foreach (var v in MemoryMarshal.Cast<byte, Half>(data)) { WriteFloat(writer, (float)v); }
                break;
            case DataType.Bf16:
                foreach (var v in MemoryMarshal.Cast<byte, ushort>(data)) { WriteFloat(writer, BFloat16Bits.ToSingle(v)); }
                break;
            case DataType.Fp32:
                foreach (var v in MemoryMarshal.Cast<byte, float>(data)) { WriteFloat(writer, v); }
                break;
            case DataType.Fp64:
                foreach (var v in MemoryMarshal.Cast<byte, double>(data)) { WriteDouble(writer, v); }
                break;
            case DataType.Bytes:
                WriteStrings(writer, data);
                break;
        }

        writer.WriteEndArray();
    }

    // JSON has no NaN or infinity; write them as the strings that Python's and .NET's parsers accept back.
    private static void WriteFloat(Utf8JsonWriter writer, float value)
    {
        if (float.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteStringValue(float.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
        }
    }

    private static void WriteDouble(Utf8JsonWriter writer, double value)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteStringValue(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
        }
    }

    /// <summary>
    /// Whether JSON can carry the tensor's elements as they are: every type can but BYTES, whose elements JSON writes
    /// as strings, so each must be valid UTF-8 (a replacement character would hand the client other bytes than the
    /// model produced).
    /// </summary>
    public static bool IsJsonWritable(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.DataType != DataType.Bytes)
        {
            return true;
        }

        ReadOnlySpan<byte> data = tensor.Data.Span;
        while (data.Length >= sizeof(uint))
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(data);
            if (!System.Text.Unicode.Utf8.IsValid(data.Slice(sizeof(uint), length)))
            {
                return false;
            }

            data = data[(sizeof(uint) + length)..];
        }

        return true;
    }

    private static void WriteStrings(Utf8JsonWriter writer, ReadOnlySpan<byte> data)
    {
        while (data.Length >= sizeof(uint))
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(data);
            var element = data.Slice(sizeof(uint), length);
            if (!System.Text.Unicode.Utf8.IsValid(element))
            {
                throw new InvalidOperationException("a BYTES element is not valid UTF-8 and cannot be a JSON string; check IsJsonWritable first, or send the tensor binary");
            }

            writer.WriteStringValue(element);
            data = data[(sizeof(uint) + length)..];
        }
    }
}
