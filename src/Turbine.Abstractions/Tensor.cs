using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Turbine;

/// <summary>A named tensor: data type, shape and the bytes in a <see cref="TensorBuffer"/> that it owns.</summary>
public sealed class Tensor : IDisposable
{
    /// <summary>Creates a tensor that takes ownership of <paramref name="data"/>.</summary>
    public Tensor(string name, DataType dataType, long[] shape, TensorBuffer data)
    {
        Name = name;
        DataType = dataType;
        Shape = shape;
        Data = data;
    }

    /// <summary>The tensor's name (an input or output of the model).</summary>
    public string Name { get; }

    /// <summary>The element type.</summary>
    public DataType DataType { get; }

    /// <summary>The dimensions.</summary>
    public long[] Shape { get; }

    /// <summary>The element bytes (see <see cref="TensorBuffer"/> for the layout).</summary>
    public TensorBuffer Data { get; }

    /// <summary>The number of elements the shape describes.</summary>
    public long ElementCount => Shapes.TryGetElementCount(Shape, out var count) ? count : -1;

    /// <summary>Creates a tensor holding a copy of <paramref name="values"/>; <paramref name="dataType"/> defaults from <typeparamref name="T"/>.</summary>
    public static Tensor FromArray<T>(string name, long[] shape, ReadOnlySpan<T> values, DataType dataType = DataType.Invalid)
        where T : unmanaged
    {
        if (dataType == DataType.Invalid)
        {
            dataType = DataTypeOf<T>();
        }

        return new Tensor(name, dataType, shape, TensorBuffer.CopyOf(MemoryMarshal.AsBytes(values)));
    }

    /// <summary>Creates a BYTES tensor from byte strings.</summary>
    public static Tensor FromBytes(string name, long[] shape, IReadOnlyList<byte[]> elements)
    {
        ArgumentNullException.ThrowIfNull(elements);
        var total = 0;
        foreach (var element in elements)
        {
            total = checked(total + 4 + element.Length);
        }

        var buffer = TensorBuffer.Rent(total);
        var span = buffer.Span;
        foreach (var element in elements)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span, element.Length);
            element.CopyTo(span[4..]);
            span = span[(4 + element.Length)..];
        }

        return new Tensor(name, DataType.Bytes, shape, buffer);
    }

    /// <summary>Creates a BYTES tensor from UTF-8 strings.</summary>
    public static Tensor FromStrings(string name, long[] shape, IReadOnlyList<string> elements)
    {
        ArgumentNullException.ThrowIfNull(elements);
        var bytes = new byte[elements.Count][];
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = Encoding.UTF8.GetBytes(elements[i]);
        }

        return FromBytes(name, shape, bytes);
    }

    /// <summary>Copies the elements out as <typeparamref name="T"/> (the caller picks a type of the right size).</summary>
    public T[] ToArray<T>()
        where T : unmanaged => MemoryMarshal.Cast<byte, T>(Data.Span).ToArray();

    /// <summary>Splits a BYTES tensor into its elements.</summary>
    public byte[][] ToByteElements()
    {
        var result = new List<byte[]>();
        var span = (ReadOnlySpan<byte>)Data.Span;
        while (span.Length >= 4)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(span);
            result.Add(span.Slice(4, length).ToArray());
            span = span[(4 + length)..];
        }

        return [.. result];
    }

    /// <summary>Splits a BYTES tensor into UTF-8 strings.</summary>
    public string[] ToStrings()
    {
        var elements = ToByteElements();
        var strings = new string[elements.Length];
        for (var i = 0; i < elements.Length; i++)
        {
            strings[i] = Encoding.UTF8.GetString(elements[i]);
        }

        return strings;
    }

    /// <summary>The data type that a .NET element type stands for by default.</summary>
    public static DataType DataTypeOf<T>()
        where T : unmanaged => TryGetDataType(typeof(T), out var type)
            ? type
            : throw new ArgumentException($"no default data type for {typeof(T).Name}; pass one explicitly");

    /// <summary>The data type that a .NET element type stands for by default, if any.</summary>
    public static bool TryGetDataType(Type elementType, out DataType dataType)
    {
        dataType = elementType switch
        {
            var t when t == typeof(bool) => DataType.Bool,
            var t when t == typeof(byte) => DataType.UInt8,
            var t when t == typeof(ushort) => DataType.UInt16,
            var t when t == typeof(uint) => DataType.UInt32,
            var t when t == typeof(ulong) => DataType.UInt64,
            var t when t == typeof(sbyte) => DataType.Int8,
            var t when t == typeof(short) => DataType.Int16,
            var t when t == typeof(int) => DataType.Int32,
            var t when t == typeof(long) => DataType.Int64,
            var t when t == typeof(Half) => DataType.Fp16,
            var t when t == typeof(float) => DataType.Fp32,
            var t when t == typeof(double) => DataType.Fp64,
            _ => DataType.Invalid,
        };
        return dataType != DataType.Invalid;
    }

    /// <summary>Releases the data buffer.</summary>
    public void Dispose() => Data.Dispose();
}
