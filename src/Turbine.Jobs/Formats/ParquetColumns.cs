using Parquet;
using Parquet.Data;
using Parquet.Schema;

namespace Turbine.Jobs.Formats;

/// <summary>
/// Reads one Parquet column of a row group into the rows' cells, from its raw values and levels (the untyped
/// deserializer builds a dictionary per row and costs more than the model here: 240 ms against 10 ms for a thousand
/// rows of a thousand floats). Values hold the defined entries only, packed; a definition level below the field's
/// maximum is a null (a flat column) or no element (a list); a repetition level of 0 starts the next row.
/// </summary>
internal static class ParquetColumns
{
    public static Task ReadAsync(ParquetRowGroupReader group, DataField field, bool list, object?[][] cells, int column, CancellationToken cancellationToken)
    {
        var type = field.ClrType;
        return type switch
        {
            _ when type == typeof(float) => ReadAsync<float>(group, field, list, cells, column, v => (double)v, values => values, cancellationToken),
            _ when type == typeof(double) => ReadAsync<double>(group, field, list, cells, column, v => v, values => values, cancellationToken),
            _ when type == typeof(long) => ReadAsync<long>(group, field, list, cells, column, v => v, values => values, cancellationToken),
            _ when type == typeof(int) => ReadAsync<int>(group, field, list, cells, column, v => (long)v, values => values, cancellationToken),
            _ when type == typeof(short) => ReadAsync<short>(group, field, list, cells, column, v => (long)v, Longs, cancellationToken),
            _ when type == typeof(sbyte) => ReadAsync<sbyte>(group, field, list, cells, column, v => (long)v, Longs, cancellationToken),
            _ when type == typeof(byte) => ReadAsync<byte>(group, field, list, cells, column, v => (long)v, Longs, cancellationToken),
            _ when type == typeof(ushort) => ReadAsync<ushort>(group, field, list, cells, column, v => (long)v, Longs, cancellationToken),
            _ when type == typeof(uint) => ReadAsync<uint>(group, field, list, cells, column, v => (long)v, Longs, cancellationToken),
            _ when type == typeof(ulong) => ReadAsync<ulong>(group, field, list, cells, column, v => v <= long.MaxValue ? (long)v : (double)v, Boxed, cancellationToken),
            _ when type == typeof(Half) => ReadAsync<Half>(group, field, list, cells, column, v => (double)v, values => Array.ConvertAll(values, v => (float)v), cancellationToken),
            _ when type == typeof(bool) => ReadAsync<bool>(group, field, list, cells, column, v => v, Boxed, cancellationToken),
            _ when type == typeof(ReadOnlyMemory<char>) => ReadAsync<ReadOnlyMemory<char>>(group, field, list, cells, column, v => v.ToString(), Boxed, cancellationToken),
            _ => Task.CompletedTask,
        };
    }

    private static async Task ReadAsync<T>(ParquetRowGroupReader group, DataField field, bool list, object?[][] cells, int column, Func<T, object> scalar, Func<T[], object> array, CancellationToken cancellationToken)
        where T : struct
    {
        using var raw = (RawColumnData<T>)await group.ReadRawColumnDataBaseAsync(field, cancellationToken);
        var values = raw.Values;
        var definitions = field.MaxDefinitionLevel > 0 ? raw.DefinitionLevels : default;
        var repetitions = field.MaxRepetitionLevel > 0 ? raw.RepetitionLevels : default;
        var entries = field.MaxDefinitionLevel > 0 ? definitions.Length : Math.Min(values.Length, cells.Length);
        var row = -1;
        var next = 0;
        var rowStart = 0;
        for (var k = 0; k < entries; k++)
        {
            var defined = field.MaxDefinitionLevel == 0 || definitions[k] == field.MaxDefinitionLevel;
            if (!list)
            {
                cells[k][column] = defined ? scalar(values[next++]) : null;
                continue;
            }

            if (repetitions[k] == 0)
            {
                if (row >= 0)
                {
                    cells[row][column] = array(values[rowStart..next].ToArray());
                }

                row++;
                rowStart = next;
            }

            if (defined)
            {
                next++;
            }
        }

        if (list && row >= 0)
        {
            cells[row][column] = array(values[rowStart..next].ToArray());
        }
    }

    private static long[] Longs<T>(T[] values)
        where T : struct, System.Numerics.INumberBase<T> =>
        Array.ConvertAll(values, long.CreateTruncating);

    private static List<object?> Boxed<T>(T[] values) => [.. values.Select(v => (object?)(v is ReadOnlyMemory<char> text ? text.ToString() : v))];
}
