namespace Turbine;

/// <summary>Wire names and element sizes of <see cref="DataType"/>.</summary>
public static class DataTypes
{
    private static readonly string[] WireNames =
        ["INVALID", "BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "BF16", "FP32", "FP64", "BYTES"];

    private static readonly int[] Sizes = [0, 1, 1, 2, 4, 8, 1, 2, 4, 8, 2, 2, 4, 8, 0];

    /// <summary>Every valid data type, in wire order.</summary>
    public static IReadOnlyList<DataType> All { get; } =
    [
        DataType.Bool, DataType.UInt8, DataType.UInt16, DataType.UInt32, DataType.UInt64,
        DataType.Int8, DataType.Int16, DataType.Int32, DataType.Int64,
        DataType.Fp16, DataType.Bf16, DataType.Fp32, DataType.Fp64, DataType.Bytes,
    ];

    /// <summary>The protocol name, e.g. <c>FP32</c>.</summary>
    public static string ToWireName(this DataType type) => WireNames[(int)type];

    /// <summary>The Triton model-configuration name, e.g. <c>TYPE_FP32</c> (BYTES is <c>TYPE_STRING</c>).</summary>
    public static string ToConfigName(this DataType type) =>
        type == DataType.Bytes ? "TYPE_STRING" : "TYPE_" + WireNames[(int)type];

    /// <summary>Size of one element in bytes; 0 for <see cref="DataType.Bytes"/> (variable) and invalid types.</summary>
    public static int ElementSize(this DataType type) => Sizes[(int)type];

    /// <summary>Parses a protocol name (<c>FP32</c>) or a Triton config name (<c>TYPE_FP32</c>, <c>TYPE_STRING</c>).</summary>
    public static bool TryParse(ReadOnlySpan<char> name, out DataType type)
    {
        if (name.StartsWith("TYPE_", StringComparison.Ordinal))
        {
            name = name[5..];
            if (name.SequenceEqual("STRING"))
            {
                type = DataType.Bytes;
                return true;
            }
        }

        for (var i = 1; i < WireNames.Length; i++)
        {
            if (name.SequenceEqual(WireNames[i]))
            {
                type = (DataType)i;
                return true;
            }
        }

        type = DataType.Invalid;
        return false;
    }

    /// <summary>Parses a protocol name given as UTF-8 bytes, without allocating.</summary>
    public static bool TryParseUtf8(ReadOnlySpan<byte> name, out DataType type)
    {
        Span<char> chars = stackalloc char[16];
        if (name.Length > chars.Length)
        {
            type = DataType.Invalid;
            return false;
        }

        for (var i = 0; i < name.Length; i++)
        {
            chars[i] = (char)name[i];
        }

        return TryParse(chars[..name.Length], out type);
    }
}
