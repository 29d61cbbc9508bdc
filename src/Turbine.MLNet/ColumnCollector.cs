using Microsoft.ML;
using Microsoft.ML.Data;

namespace Turbine.MLNet;

/// <summary>Reads one output column of a transformed request row by row, then gives it as a tensor [rows, width].</summary>
internal abstract class ColumnCollector
{
    public abstract void Read();

    public abstract Tensor ToTensor(string name, int rows);

    public static ColumnCollector Create(DataViewRowCursor cursor, DataViewSchema.Column column, ColumnKind kind) => kind switch
    {
        { KeyNames: { } names } => new KeyNames(cursor.GetGetter<uint>(column), names),
        { DataType: DataType.Bytes } => new Texts(Items<ReadOnlyMemory<char>>.Of(cursor, column, kind)),
        { DataType: DataType.Fp32 } => Collector<float>(cursor, column, kind),
        { DataType: DataType.Fp64 } => Collector<double>(cursor, column, kind),
        { DataType: DataType.Int32 } => Collector<int>(cursor, column, kind),
        { DataType: DataType.Int64 } => Collector<long>(cursor, column, kind),
        { DataType: DataType.UInt32 } => Collector<uint>(cursor, column, kind),
        { DataType: DataType.UInt64 } => Collector<ulong>(cursor, column, kind),
        { DataType: DataType.Int16 } => Collector<short>(cursor, column, kind),
        { DataType: DataType.UInt16 } => Collector<ushort>(cursor, column, kind),
        { DataType: DataType.Int8 } => Collector<sbyte>(cursor, column, kind),
        { DataType: DataType.UInt8 } => Collector<byte>(cursor, column, kind),
        { DataType: DataType.Bool } => Collector<bool>(cursor, column, kind),
        _ => throw new InvalidOperationException($"no collector for {kind.DataType}"),
    };

    private static Numbers<T> Collector<T>(DataViewRowCursor cursor, DataViewSchema.Column column, ColumnKind kind)
        where T : unmanaged => new(Items<T>.Of(cursor, column, kind));

    /// <summary>A column's values in row order, a scalar or a vector of the schema's width per row.</summary>
    private sealed class Items<T>(int width, ValueGetter<VBuffer<T>>? vector, ValueGetter<T>? scalar)
    {
        private VBuffer<T> _buffer;

        public int Width => width;

        public List<T> Values { get; } = [];

        public static Items<T> Of(DataViewRowCursor cursor, DataViewSchema.Column column, ColumnKind kind) => kind.IsVector
            ? new(kind.Width, cursor.GetGetter<VBuffer<T>>(column), null)
            : new(1, null, cursor.GetGetter<T>(column));

        public void Read()
        {
            if (scalar is not null)
            {
                T value = default!;
                scalar(ref value);
                Values.Add(value);
                return;
            }

            vector!(ref _buffer);
            if (_buffer.Length != width)
            {
                throw new InvalidOperationException($"the model gave a vector of {_buffer.Length} values where its schema says {width}");
            }

            Values.AddRange(_buffer.DenseValues());
        }
    }

    private sealed class Numbers<T>(Items<T> items) : ColumnCollector
        where T : unmanaged
    {
        public override void Read() => items.Read();

        public override Tensor ToTensor(string name, int rows) => Tensor.FromArray<T>(name, [rows, items.Width], items.Values.ToArray().AsSpan());
    }

    private sealed class Texts(Items<ReadOnlyMemory<char>> items) : ColumnCollector
    {
        public override void Read() => items.Read();

        public override Tensor ToTensor(string name, int rows) => Tensor.FromStrings(name, [rows, items.Width], [.. items.Values.Select(m => m.ToString())]);
    }

    /// <summary>A key column (a predicted class) as its text name; key 0 (missing) is the empty string.</summary>
    private sealed class KeyNames(ValueGetter<uint> getter, ReadOnlyMemory<char>[] names) : ColumnCollector
    {
        private readonly List<string> _names = [];

        public override void Read()
        {
            uint key = 0;
            getter(ref key);
            _names.Add(key == 0 || key > names.Length ? string.Empty : names[key - 1].ToString());
        }

        public override Tensor ToTensor(string name, int rows) => Tensor.FromStrings(name, [rows, 1], _names);
    }
}
