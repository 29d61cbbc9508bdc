using System.Globalization;
using System.Runtime.InteropServices;

namespace Turbine;

/// <summary>Reads a numeric tensor's elements whatever their type: as doubles to compare, as text to show.</summary>
public static class TensorValues
{
    /// <summary>Every element as a double (BOOL as 0 or 1); null for BYTES, which has no numeric value.</summary>
    public static double[]? AsDoubles(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ReadOnlySpan<byte> data = tensor.Data.Span;
        return tensor.DataType switch
        {
            DataType.Bool or DataType.UInt8 => Widen<byte>(data, v => v),
            DataType.Int8 => Widen<sbyte>(data, v => v),
            DataType.UInt16 => Widen<ushort>(data, v => v),
            DataType.Int16 => Widen<short>(data, v => v),
            DataType.UInt32 => Widen<uint>(data, v => v),
            DataType.Int32 => Widen<int>(data, v => v),
            DataType.UInt64 => Widen<ulong>(data, v => v),
            DataType.Int64 => Widen<long>(data, v => v),
            DataType.Fp16 => Widen<Half>(data, v => (double)v),
            DataType.Bf16 => Widen<ushort>(data, v => BFloat16Bits.ToSingle(v)),
            DataType.Fp32 => Widen<float>(data, v => v),
            DataType.Fp64 => MemoryMarshal.Cast<byte, double>(data).ToArray(),
            _ => null,
        };
    }

    /// <summary>
    /// Element <paramref name="index"/> as text: integers exactly, floating point with six decimals (C's
    /// <c>std::to_string</c>, which Triton's classification strings use).
    /// </summary>
    public static string Format(Tensor tensor, int index)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ReadOnlySpan<byte> data = tensor.Data.Span;
        var culture = CultureInfo.InvariantCulture;
        return tensor.DataType switch
        {
            DataType.Bool or DataType.UInt8 => data[index].ToString(culture),
            DataType.Int8 => ((sbyte)data[index]).ToString(culture),
            DataType.UInt16 => MemoryMarshal.Cast<byte, ushort>(data)[index].ToString(culture),
            DataType.Int16 => MemoryMarshal.Cast<byte, short>(data)[index].ToString(culture),
            DataType.UInt32 => MemoryMarshal.Cast<byte, uint>(data)[index].ToString(culture),
            DataType.Int32 => MemoryMarshal.Cast<byte, int>(data)[index].ToString(culture),
            DataType.UInt64 => MemoryMarshal.Cast<byte, ulong>(data)[index].ToString(culture),
            DataType.Int64 => MemoryMarshal.Cast<byte, long>(data)[index].ToString(culture),
            DataType.Fp16 => ((double)MemoryMarshal.Cast<byte, Half>(data)[index]).ToString("F6", culture),
            DataType.Bf16 => ((double)BFloat16Bits.ToSingle(MemoryMarshal.Cast<byte, ushort>(data)[index])).ToString("F6", culture),
            DataType.Fp32 => ((double)MemoryMarshal.Cast<byte, float>(data)[index]).ToString("F6", culture),
            DataType.Fp64 => MemoryMarshal.Cast<byte, double>(data)[index].ToString("F6", culture),
            _ => throw new ArgumentException($"a {tensor.DataType.ToWireName()} tensor has no numeric value", nameof(tensor)),
        };
    }

    private static double[] Widen<T>(ReadOnlySpan<byte> data, Func<T, double> widen)
        where T : unmanaged
    {
        var values = MemoryMarshal.Cast<byte, T>(data);
        var result = new double[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            result[i] = widen(values[i]);
        }

        return result;
    }
}
