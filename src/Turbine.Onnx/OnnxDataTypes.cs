using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;

namespace Turbine.Onnx;

/// <summary>Maps Turbine data types to ONNX's element types (the same numbers in the ONNX schema and in ONNX Runtime).</summary>
internal static class OnnxDataTypes
{
    public static TensorProto.Types.DataType ToOnnx(DataType type) => type switch
    {
        DataType.Bool => TensorProto.Types.DataType.Bool,
        DataType.UInt8 => TensorProto.Types.DataType.Uint8,
        DataType.UInt16 => TensorProto.Types.DataType.Uint16,
        DataType.UInt32 => TensorProto.Types.DataType.Uint32,
        DataType.UInt64 => TensorProto.Types.DataType.Uint64,
        DataType.Int8 => TensorProto.Types.DataType.Int8,
        DataType.Int16 => TensorProto.Types.DataType.Int16,
        DataType.Int32 => TensorProto.Types.DataType.Int32,
        DataType.Int64 => TensorProto.Types.DataType.Int64,
        DataType.Fp16 => TensorProto.Types.DataType.Float16,
        DataType.Bf16 => TensorProto.Types.DataType.Bfloat16,
        DataType.Fp32 => TensorProto.Types.DataType.Float,
        DataType.Fp64 => TensorProto.Types.DataType.Double,
        DataType.Bytes => TensorProto.Types.DataType.String,
        _ => TensorProto.Types.DataType.Undefined,
    };

    public static DataType FromOnnx(int elementType) => (TensorProto.Types.DataType)elementType switch
    {
        TensorProto.Types.DataType.Bool => DataType.Bool,
        TensorProto.Types.DataType.Uint8 => DataType.UInt8,
        TensorProto.Types.DataType.Uint16 => DataType.UInt16,
        TensorProto.Types.DataType.Uint32 => DataType.UInt32,
        TensorProto.Types.DataType.Uint64 => DataType.UInt64,
        TensorProto.Types.DataType.Int8 => DataType.Int8,
        TensorProto.Types.DataType.Int16 => DataType.Int16,
        TensorProto.Types.DataType.Int32 => DataType.Int32,
        TensorProto.Types.DataType.Int64 => DataType.Int64,
        TensorProto.Types.DataType.Float16 => DataType.Fp16,
        TensorProto.Types.DataType.Bfloat16 => DataType.Bf16,
        TensorProto.Types.DataType.Float => DataType.Fp32,
        TensorProto.Types.DataType.Double => DataType.Fp64,
        TensorProto.Types.DataType.String => DataType.Bytes,
        _ => DataType.Invalid,
    };

    public static TensorElementType ToRuntime(DataType type) => (TensorElementType)(int)ToOnnx(type);

    public static DataType FromRuntime(TensorElementType type) => FromOnnx((int)type);
}
