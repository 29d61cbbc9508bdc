namespace Turbine;

/// <summary>Shape arithmetic with overflow checked before anything is allocated.</summary>
public static class Shapes
{
    /// <summary>The most dimensions a tensor may have.</summary>
    public const int MaxRank = 16;

    /// <summary>Element count of a fully known shape; false when a dimension is negative or the product overflows.</summary>
    public static bool TryGetElementCount(ReadOnlySpan<long> shape, out long count)
    {
        count = 1;
        foreach (var dim in shape)
        {
            if (dim < 0)
            {
                return false;
            }

            if (dim != 0 && count > long.MaxValue / dim)
            {
                return false;
            }

            count *= dim;
        }

        return true;
    }

    /// <summary>Byte size of <paramref name="elementCount"/> elements of a fixed-size type, checked against <paramref name="limit"/>.</summary>
    public static bool TryGetByteSize(long elementCount, DataType type, long limit, out long byteSize)
    {
        var size = type.ElementSize();
        byteSize = 0;
        if (size == 0 || elementCount > limit / size)
        {
            return false;
        }

        byteSize = elementCount * size;
        return true;
    }

    /// <summary>Formats a shape as <c>[2,16]</c> (for error messages, not the hot path).</summary>
    public static string Format(ReadOnlySpan<long> shape)
    {
        var parts = new string[shape.Length];
        for (var i = 0; i < shape.Length; i++)
        {
            parts[i] = shape[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return "[" + string.Join(",", parts) + "]";
    }
}
