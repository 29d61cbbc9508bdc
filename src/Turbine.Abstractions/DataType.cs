namespace Turbine;

/// <summary>The tensor element types of the KServe v2 / Open Inference Protocol.</summary>
public enum DataType : byte
{
    /// <summary>Unknown or unsupported.</summary>
    Invalid = 0,
    /// <summary>Boolean, one byte per element.</summary>
    Bool,
    /// <summary>Unsigned 8-bit integer.</summary>
    UInt8,
    /// <summary>Unsigned 16-bit integer.</summary>
    UInt16,
    /// <summary>Unsigned 32-bit integer.</summary>
    UInt32,
    /// <summary>Unsigned 64-bit integer.</summary>
    UInt64,
    /// <summary>Signed 8-bit integer.</summary>
    Int8,
    /// <summary>Signed 16-bit integer.</summary>
    Int16,
    /// <summary>Signed 32-bit integer.</summary>
    Int32,
    /// <summary>Signed 64-bit integer.</summary>
    Int64,
    /// <summary>IEEE 754 half precision.</summary>
    Fp16,
    /// <summary>bfloat16.</summary>
    Bf16,
    /// <summary>IEEE 754 single precision.</summary>
    Fp32,
    /// <summary>IEEE 754 double precision.</summary>
    Fp64,
    /// <summary>Variable-length byte strings; serialized as 4-byte little-endian length + bytes per element.</summary>
    Bytes,
}
