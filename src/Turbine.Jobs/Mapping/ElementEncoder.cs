using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Turbine.Jobs.Formats;

namespace Turbine.Jobs.Mapping;

/// <summary>
/// Turns cells into tensor elements of a model input's type, appended in the tensor's byte layout (little-endian;
/// BYTES as a 4-byte length and the bytes). Text is parsed with the invariant culture; a list cell adds its elements in
/// order (nested lists flattened); CSV text that holds a JSON array is read as that list. Whatever does not fit the
/// type (text that is no number, 3.5 for an integer, 300 for UINT8, null) is an error for that row, with the reason.
/// </summary>
internal sealed class ElementEncoder(DataType type, int maxCellBytes)
{
    /// <summary>Appends the elements of <paramref name="cell"/>; the number added, or -1 with <paramref name="error"/> set.</summary>
    public int Append(object? cell, ArrayBufferWriter<byte> output, bool expectList, out string? error)
    {
        error = null;
        switch (cell)
        {
            case null:
                error = "is null";
                return -1;
            case IReadOnlyList<object?> list:
                return AppendList(list, output, out error);
            case float[] floats:
                return AppendNumbers(floats, output, out error);
            case double[] doubles:
                return AppendNumbers(doubles, output, out error);
            case long[] longs:
                return AppendNumbers(longs, output, out error);
            case int[] ints:
                return AppendNumbers(ints, output, out error);
            case TensorCell tensor:
                return AppendList(tensor.Values, output, out error);
            case string text when text.Length > maxCellBytes:
                error = $"is larger than {maxCellBytes} bytes";
                return -1;
            case string text when expectList && type != DataType.Bytes && text.TrimStart().StartsWith('['):
                return AppendJsonList(text, output, out error);
            default:
                return AppendOne(cell, output, out error) ? 1 : -1;
        }
    }

    private int AppendList(IReadOnlyList<object?> list, ArrayBufferWriter<byte> output, out string? error)
    {
        error = null;
        var added = 0;
        foreach (var item in list)
        {
            var count = item is IReadOnlyList<object?> inner ? AppendList(inner, output, out error) : AppendOne(item, output, out error) ? 1 : -1;
            if (count < 0)
            {
                return -1;
            }

            added += count;
            if (added > maxCellBytes)
            {
                error = $"holds more than {maxCellBytes} elements";
                return -1;
            }
        }

        return added;
    }

    /// <summary>A typed array of numbers: copied whole when it is already the input's type, else element by element.</summary>
    private int AppendNumbers<T>(T[] values, ArrayBufferWriter<byte> output, out string? error)
        where T : unmanaged, System.Numerics.INumberBase<T>
    {
        error = null;
        if (values.Length > maxCellBytes)
        {
            error = $"holds more than {maxCellBytes} elements";
            return -1;
        }

        if ((typeof(T) == typeof(float) && type == DataType.Fp32) || (typeof(T) == typeof(double) && type == DataType.Fp64) ||
            (typeof(T) == typeof(long) && type == DataType.Int64) || (typeof(T) == typeof(int) && type == DataType.Int32))
        {
            var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan());
            bytes.CopyTo(output.GetSpan(bytes.Length));
            output.Advance(bytes.Length);
            return values.Length;
        }

        var integral = typeof(T) == typeof(long) || typeof(T) == typeof(int);
        foreach (var value in values)
        {
            var appended = type is DataType.Bytes or DataType.Bool
                ? AppendOne(integral ? long.CreateTruncating(value) : double.CreateTruncating(value), output, out error)
                : AppendNumber(double.CreateTruncating(value), integral ? long.CreateTruncating(value) : null, output, out error);
            if (!appended)
            {
                return -1;
            }
        }

        return values.Length;
    }

    private int AppendJsonList(string text, ArrayBufferWriter<byte> output, out string? error)
    {
        try
        {
            using var document = JsonDocument.Parse(text, JsonCells.Limits);
            return Append(JsonCells.From(document.RootElement), output, expectList: false, out error);
        }
        catch (JsonException)
        {
            error = "is not a JSON list of values";
            return -1;
        }
    }

    private bool AppendOne(object? value, ArrayBufferWriter<byte> output, out string? error)
    {
        error = null;
        if (value is null)
        {
            error = "holds a null";
            return false;
        }

        if (type == DataType.Bytes)
        {
            var text = value as string ?? Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty;
            var length = Encoding.UTF8.GetByteCount(text);
            var span = output.GetSpan(4 + length);
            BinaryPrimitives.WriteInt32LittleEndian(span, length);
            Encoding.UTF8.GetBytes(text, span[4..]);
            output.Advance(4 + length);
            return true;
        }

        if (type == DataType.Bool)
        {
            if (!TryBool(value, out var flag))
            {
                error = $"'{Show(value)}' is not a boolean";
                return false;
            }

            output.Write([flag ? (byte)1 : (byte)0]);
            return true;
        }

        if (!TryNumber(value, out var number, out var whole))
        {
            error = value is string s && s.Length == 0 ? "is empty" : $"'{Show(value)}' is not a number";
            return false;
        }

        return AppendNumber(number, whole, output, out error);
    }

    /// <summary>A number (with its exact value when it is whole) written as the input's numeric type.</summary>
    private bool AppendNumber(double number, long? whole, ArrayBufferWriter<byte> output, out string? error)
    {
        error = null;
        return type switch
        {
            DataType.Fp32 => Write(output, (float)number),
            DataType.Fp64 => Write(output, number),
            DataType.Fp16 => Write(output, (Half)number),
            DataType.Bf16 => Write(output, BFloat16Bits.FromSingle((float)number)),
            _ => AppendInteger(number, whole, output, out error),
        };
    }

    private bool AppendInteger(double number, long? whole, ArrayBufferWriter<byte> output, out string? error)
    {
        error = null;
        if (whole is not { } value)
        {
            if (number != Math.Floor(number) || double.IsInfinity(number) || Math.Abs(number) >= 9.2e18)
            {
                error = $"{number.ToString(CultureInfo.InvariantCulture)} is not a whole number for {type.ToWireName()}";
                return false;
            }

            value = (long)number;
        }

        var (min, max) = type switch
        {
            DataType.Int8 => (sbyte.MinValue, sbyte.MaxValue),
            DataType.UInt8 => (byte.MinValue, byte.MaxValue),
            DataType.Int16 => (short.MinValue, short.MaxValue),
            DataType.UInt16 => (ushort.MinValue, ushort.MaxValue),
            DataType.Int32 => (int.MinValue, int.MaxValue),
            DataType.UInt32 => (uint.MinValue, uint.MaxValue),
            DataType.UInt64 => (0L, long.MaxValue),
            _ => (long.MinValue, long.MaxValue),
        };
        if (value < min || value > max)
        {
            error = $"{value} is out of range for {type.ToWireName()}";
            return false;
        }

        return type switch
        {
            DataType.Int8 => Write(output, (sbyte)value),
            DataType.UInt8 => Write(output, (byte)value),
            DataType.Int16 => Write(output, (short)value),
            DataType.UInt16 => Write(output, (ushort)value),
            DataType.Int32 => Write(output, (int)value),
            DataType.UInt32 => Write(output, (uint)value),
            DataType.UInt64 => Write(output, (ulong)value),
            _ => Write(output, value),
        };
    }

    private static bool TryNumber(object value, out double number, out long? whole)
    {
        whole = null;
        switch (value)
        {
            case long l:
                whole = l;
                number = l;
                return true;
            case double d:
                number = d;
                return true;
            case bool b:
                whole = b ? 1 : 0;
                number = whole.Value;
                return true;
            case string s when long.TryParse(s, NumberStyles.AllowLeadingSign | NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite, CultureInfo.InvariantCulture, out var parsed):
                whole = parsed;
                number = parsed;
                return true;
            case string s:
                return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out number);
            default:
                number = 0;
                return false;
        }
    }

    private static bool TryBool(object value, out bool flag)
    {
        switch (value)
        {
            case bool b:
                flag = b;
                return true;
            case long l and (0 or 1):
                flag = l == 1;
                return true;
            case string s when s.Trim() is { } t && (t == "1" || t.Equals("true", StringComparison.OrdinalIgnoreCase)):
                flag = true;
                return true;
            case string s when s.Trim() is { } t && (t == "0" || t.Equals("false", StringComparison.OrdinalIgnoreCase)):
                flag = false;
                return true;
            default:
                flag = false;
                return false;
        }
    }

    private static bool Write<T>(ArrayBufferWriter<byte> output, T value)
        where T : unmanaged
    {
        var size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        System.Runtime.InteropServices.MemoryMarshal.Write(output.GetSpan(size), in value);
        output.Advance(size);
        return true;
    }

    private static string Show(object value) => ClientText.Quote(Convert.ToString(value, CultureInfo.InvariantCulture), 40);
}
