namespace Turbine;

/// <summary>Conversions between <see cref="float"/> and bfloat16 bit patterns (the upper half of an FP32).</summary>
public static class BFloat16Bits
{
    /// <summary>Rounds to the nearest bfloat16, ties to even; NaN stays NaN.</summary>
    public static ushort FromSingle(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            return 0x7FC0;
        }

        bits += 0x7FFF + ((bits >> 16) & 1);
        return (ushort)(bits >> 16);
    }

    /// <summary>Widens a bfloat16 to FP32 exactly.</summary>
    public static float ToSingle(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);
}
