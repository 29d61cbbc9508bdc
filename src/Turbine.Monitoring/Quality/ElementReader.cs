using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Turbine.Monitoring.Quality;

/// <summary>Reads one element of a tensor's buffer without copying: numbers as doubles, BYTES elements as spans.</summary>
internal static class ElementReader
{
    /// <summary>Element <paramref name="index"/> of a numeric buffer as a double.</summary>
    public static double Number(ReadOnlySpan<byte> data, DataType type, int index) => type switch
    {
        DataType.Bool or DataType.UInt8 => data[index],
        DataType.Int8 => (sbyte)data[index],
        DataType.UInt16 => MemoryMarshal.Cast<byte, ushort>(data)[index],
        DataType.Int16 => MemoryMarshal.Cast<byte, short>(data)[index],
        DataType.UInt32 => MemoryMarshal.Cast<byte, uint>(data)[index],
        DataType.Int32 => MemoryMarshal.Cast<byte, int>(data)[index],
        DataType.UInt64 => MemoryMarshal.Cast<byte, ulong>(data)[index],
        DataType.Int64 => MemoryMarshal.Cast<byte, long>(data)[index],
        DataType.Fp16 => (double)MemoryMarshal.Cast<byte, Half>(data)[index],
        DataType.Bf16 => BFloat16Bits.ToSingle(MemoryMarshal.Cast<byte, ushort>(data)[index]),
        DataType.Fp32 => MemoryMarshal.Cast<byte, float>(data)[index],
        DataType.Fp64 => MemoryMarshal.Cast<byte, double>(data)[index],
        _ => double.NaN,
    };

    /// <summary>Splits the next BYTES element off <paramref name="data"/> (length-prefixed, little-endian).</summary>
    public static ReadOnlySpan<byte> NextBytes(ref ReadOnlySpan<byte> data)
    {
        if (data.Length < 4)
        {
            data = default;
            return default;
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(data);
        if (length < 0 || length > data.Length - 4)
        {
            data = default;
            return default;
        }

        var element = data.Slice(4, length);
        data = data[(4 + length)..];
        return element;
    }
}
