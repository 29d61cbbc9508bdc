using Microsoft.ML;
using Microsoft.ML.Data;

namespace Turbine.MLNet;

/// <summary>
/// How one ML.NET column meets a tensor: its element type, its width (a scalar is one, a vector its size, 0 when the
/// vector's size varies) and, for a key column with text key values (a predicted label), those values.
/// </summary>
internal sealed record ColumnKind(DataType DataType, int Width, Type ItemType, bool IsVector, ReadOnlyMemory<char>[]? KeyNames = null)
{
    /// <summary>The tensor shape of a batch: [batch, width], or [batch, -1] for a vector of varying size.</summary>
    public long[] Shape => [-1, Width == 0 ? -1 : Width];

    /// <summary>The kind of a column, or null with the reason when Turbine cannot map it.</summary>
    public static ColumnKind? Of(DataViewSchema.Column column, out string? reason)
    {
        reason = null;
        var type = column.Type;
        var vector = type as VectorDataViewType;
        var item = vector?.ItemType ?? type;
        var width = vector?.Size ?? 1;
        if (item is KeyDataViewType && vector is null)
        {
            // A key (a predicted class): its text names when the model has them, else the key itself.
            var names = default(VBuffer<ReadOnlyMemory<char>>);
            if (column.HasKeyValues())
            {
                column.GetKeyValues(ref names);
                return new ColumnKind(DataType.Bytes, 1, typeof(uint), false, names.DenseValues().ToArray());
            }

            return item.RawType == typeof(uint) ? new ColumnKind(DataType.UInt32, 1, typeof(uint), false) : Refuse(column, out reason);
        }

        // Text is BYTES; Half has no ML.NET column type, so Tensor's own mapping serves every other element type.
        var dataType = item.RawType == typeof(ReadOnlyMemory<char>) ? DataType.Bytes
            : item.RawType != typeof(Half) && Tensor.TryGetDataType(item.RawType, out var mapped) ? mapped
            : DataType.Invalid;
        return dataType == DataType.Invalid || item is KeyDataViewType ? Refuse(column, out reason) : new ColumnKind(dataType, width, item.RawType, vector is not null);
    }

    private static ColumnKind? Refuse(DataViewSchema.Column column, out string reason)
    {
        reason = $"column '{column.Name}' is of ML.NET type {column.Type}, which has no tensor form here";
        return null;
    }
}
