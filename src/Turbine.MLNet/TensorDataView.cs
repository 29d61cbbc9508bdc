using Microsoft.ML;
using Microsoft.ML.Data;

namespace Turbine.MLNet;

/// <summary>
/// The rows of one request as an ML.NET data view: column k of the model's input schema reads row r of input tensor k
/// (its r-th scalar, or its r-th slice of the vector's width). One cursor at a time, in order.
/// </summary>
internal sealed class TensorDataView(DataViewSchema schema, IReadOnlyList<ColumnValues> columns, int rows) : IDataView
{
    private readonly IReadOnlyList<ColumnValues> _columns = columns;
    private readonly int _rows = rows;

    public bool CanShuffle => false;

    public DataViewSchema Schema => schema;

    public long? GetRowCount() => _rows;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => new Cursor(this);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [new Cursor(this)];

    private sealed class Cursor(TensorDataView view) : DataViewRowCursor
    {
        private long _position = -1;

        public override long Position => _position;

        public override long Batch => 0;

        public override DataViewSchema Schema => view.Schema;

        public override bool MoveNext() => ++_position < view._rows;

        public override bool IsColumnActive(DataViewSchema.Column column) => true;

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => view._columns[column.Index].Getter<TValue>(this);

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)_position, 0);
    }
}

/// <summary>One input column's values for every row of a request.</summary>
internal abstract class ColumnValues
{
    public abstract ValueGetter<TValue> Getter<TValue>(DataViewRowCursor cursor);

    /// <summary>The column's values from its tensor, as the column's ML.NET type.</summary>
    public static ColumnValues From(Tensor tensor, ColumnKind kind, int rows) => kind.DataType switch
    {
        DataType.Bytes => new Values<ReadOnlyMemory<char>>([.. tensor.ToStrings().Select(s => s.AsMemory())], kind, rows),
        DataType.Fp32 => Of<float>(tensor, kind, rows),
        DataType.Fp64 => Of<double>(tensor, kind, rows),
        DataType.Int32 => Of<int>(tensor, kind, rows),
        DataType.Int64 => Of<long>(tensor, kind, rows),
        DataType.UInt32 => Of<uint>(tensor, kind, rows),
        DataType.UInt64 => Of<ulong>(tensor, kind, rows),
        DataType.Int16 => Of<short>(tensor, kind, rows),
        DataType.UInt16 => Of<ushort>(tensor, kind, rows),
        DataType.Int8 => Of<sbyte>(tensor, kind, rows),
        DataType.UInt8 => Of<byte>(tensor, kind, rows),
        DataType.Bool => Of<bool>(tensor, kind, rows),
        _ => throw new InvalidOperationException($"no values for {kind.DataType}"),
    };

    /// <summary>A column the request left out and the pipeline does not read: zero, false or empty in every row.</summary>
    public static ColumnValues Empty(ColumnKind kind, int rows)
    {
        var count = rows * Math.Max(1, kind.Width);
        long[] shape = [rows, Math.Max(1, kind.Width)];
        using var zeros = kind.DataType == DataType.Bytes
            ? Tensor.FromStrings("empty", shape, [.. Enumerable.Repeat(string.Empty, count)])
            : new Tensor("empty", kind.DataType, shape, TensorBuffer.CopyOf(new byte[count * kind.DataType.ElementSize()]));
        return From(zeros, kind, rows);
    }

    private static Values<T> Of<T>(Tensor tensor, ColumnKind kind, int rows)
        where T : unmanaged => new(tensor.ToArray<T>(), kind, rows);

    private sealed class Values<T>(T[] values, ColumnKind kind, int rows) : ColumnValues
    {
        private readonly int _width = values.Length / Math.Max(1, rows);

        public override ValueGetter<TValue> Getter<TValue>(DataViewRowCursor cursor)
        {
            if (!kind.IsVector)
            {
                ValueGetter<T> scalar = (ref T value) => value = values[cursor.Position];
                return (ValueGetter<TValue>)(Delegate)scalar;
            }

            ValueGetter<VBuffer<T>> vector = (ref VBuffer<T> value) =>
            {
                var editor = VBufferEditor.Create(ref value, _width);
                values.AsSpan((int)cursor.Position * _width, _width).CopyTo(editor.Values);
                value = editor.Commit();
            };
            return (ValueGetter<TValue>)(Delegate)vector;
        }
    }
}
