using System.Runtime.InteropServices;

namespace Turbine.IntegrationTests;

/// <summary>Sample tensors of every data type with values that exercise sign, range and precision.</summary>
internal static class TestTensors
{
    public static TheoryData<DataType> AllTypes()
    {
        var data = new TheoryData<DataType>();
        foreach (var type in DataTypes.All)
        {
            data.Add(type);
        }

        return data;
    }

    public static Tensor Sample(string name, DataType type, int rows = 2, int columns = 3)
    {
        var count = rows * columns;
        long[] shape = [rows, columns];
        return type switch
        {
            DataType.Bytes => Tensor.FromStrings(name, shape, Enumerable.Range(0, count).Select(i => $"élément {i}").ToArray()),
            DataType.Bool => Tensor.FromArray(name, shape, Enumerable.Range(0, count).Select(i => i % 3 == 0).ToArray().AsSpan()),
            DataType.UInt8 => Tensor.FromArray(name, shape, Enumerable.Range(0, count).Select(i => (byte)(250 + i)).ToArray().AsSpan()),
            DataType.UInt16 => Tensor.FromArray(name, shape, Enumerable.Range(0, count).Select(i => (ushort)(65530 + i)).ToArray().AsSpan()),
            DataType.UInt32 => Tensor.FromArray(name, shape, Enumerable.Range(0, count).Select(i => uint.MaxValue - (uint)i).ToArray().AsSpan()),
            DataType.UInt64 => Tensor.FromArray(name, shape, Enumerable.Range(0, count).Select(i => ulong.MaxValue - (ulong)i).ToArray().AsSpan()),
            DataType.Int8 => Tensor.FromArray(name, shape, Enumerable.Range(0, count).Select(i => (sbyte)(-128 + i)).ToArray().AsSpan()),
            DataType.Int16 => Tensor.FromArray(name, shape, Enumerable.Range(0, count).Select(i => (short)(-32768 + i)).ToArray().AsSpan()),
            DataType.Int32 => Tensor.FromArray(name, shape, Enumerable.Range(0, count).Select(i => int.MinValue + i).ToArray().AsSpan()),
            DataType.Int64 => Tensor.FromArray(name, shape, Enumerable.Range(0, count).Select(i => long.MinValue + i).ToArray().AsSpan()),
            DataType.Fp16 => Tensor.FromArray(name, shape, Enumerable.Range(0, count).Select(i => (Half)(i * -0.5)).ToArray().AsSpan()),
            DataType.Bf16 => Tensor.FromArray(name, shape, Enumerable.Range(0, count).Select(i => BFloat16Bits.FromSingle(i * 0.25f)).ToArray().AsSpan(), DataType.Bf16),
            DataType.Fp32 => Tensor.FromArray(name, shape, Enumerable.Range(0, count).Select(i => i * 1.125f - 3).ToArray().AsSpan()),
            DataType.Fp64 => Tensor.FromArray(name, shape, Enumerable.Range(0, count).Select(i => i * -1e300).ToArray().AsSpan()),
            _ => throw new ArgumentOutOfRangeException(nameof(type)),
        };
    }

    public static byte[] Bytes(Tensor tensor) => MemoryMarshal.AsBytes(tensor.Data.Span).ToArray();
}
