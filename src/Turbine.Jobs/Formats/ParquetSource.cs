using System.Collections;
using System.Runtime.CompilerServices;
using Parquet;
using Parquet.Schema;
using Parquet.Serialization;
using Turbine.Jobs.Storage;
using Turbine.Jobs.Store;

namespace Turbine.Jobs.Formats;

/// <summary>
/// Apache Parquet (Parquet.Net): one partition per row group, read on its own. Columns of numbers, booleans, strings and
/// lists of those can feed model inputs; a column the job reads of any other type (a map, a struct, a date, a decimal)
/// fails the job at planning with its name and type.
/// </summary>
internal sealed class ParquetSource : RowSource
{
    private static readonly ParquetOptions Options = new();

    public override async Task<JobPlan> PlanAsync(IJobStorage storage, string uri, int partitionRows, IReadOnlySet<string> usedColumns, CancellationToken cancellationToken)
    {
        var path = await storage.LocalCopyAsync(uri, cancellationToken);
        try
        {
            await using var stream = File.OpenRead(path);
            await using var reader = await ParquetReader.CreateAsync(stream, Options, cancellationToken: cancellationToken);
            foreach (var field in reader.Schema.Fields)
            {
                if (usedColumns.Contains(field.Name) && Unsupported(field) is { } type)
                {
                    throw new JobValidationException($"Parquet column '{ClientText.Quote(field.Name)}' is of type {type}, which cannot feed a model input: numbers, booleans, strings and lists of those can");
                }
            }

            var partitions = new List<PartitionSpan>();
            long first = 0;
            for (var group = 0; group < reader.RowGroupCount; group++)
            {
                using var rowGroup = reader.OpenRowGroupReader(group);
                partitions.Add(new PartitionSpan(group, first, rowGroup.RowCount, group, 0));
                first += rowGroup.RowCount;
            }

            return new JobPlan([.. reader.Schema.Fields.Select(f => f.Name)], partitions);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            throw new JobValidationException($"the input is not a Parquet file that can be read: {e.Message}", e);
        }
    }

    public override async IAsyncEnumerable<SourceRow> ReadAsync(IJobStorage storage, string uri, IReadOnlyList<string> columns, PartitionSpan span, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var path = await storage.LocalCopyAsync(uri, cancellationToken);
        IList<Dictionary<string, object>> rows;
        await using (var stream = File.OpenRead(path))
        {
            rows = (await ParquetSerializer.DeserializeUntypedAsync(stream, Options, (int)span.ByteOffset, cancellationToken)).Data;
        }

        for (var i = 0; i < rows.Count; i++)
        {
            var cells = new object?[columns.Count];
            for (var c = 0; c < cells.Length; c++)
            {
                cells[c] = rows[i].TryGetValue(columns[c], out var value) ? Cell(value) : null;
            }

            yield return new SourceRow(span.FirstRow + i, cells, null);
        }
    }

    /// <summary>The type of a field that cannot feed an input; null when it can.</summary>
    private static string? Unsupported(Field field) => field switch
    {
        ListField list => list.Item is DataField item && Supported(item.ClrType) ? null : "a list of " + (list.Item is DataField d ? d.ClrType.Name : list.Item.SchemaType.ToString()),
        DataField data when data.IsArray => Supported(data.ClrType) ? null : $"an array of {data.ClrType.Name}",
        DataField data => Supported(data.ClrType) ? null : data.ClrType.Name,
        _ => field.SchemaType.ToString(),
    };

    private static bool Supported(Type type) =>
        type == typeof(bool) || type == typeof(string) || type == typeof(ReadOnlyMemory<char>) ||
        type == typeof(sbyte) || type == typeof(byte) || type == typeof(short) || type == typeof(ushort) ||
        type == typeof(int) || type == typeof(uint) || type == typeof(long) || type == typeof(ulong) ||
        type == typeof(float) || type == typeof(double) || type == typeof(Half);

    /// <summary>A Parquet value as a cell: whole numbers as long, others as double, lists as lists.</summary>
    private static object? Cell(object? value) => value switch
    {
        null => null,
        string or bool or long or double => value,
        int or short or sbyte or byte or ushort or uint => Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture),
        ulong whole => whole <= long.MaxValue ? (long)whole : (double)whole,
        float single => (double)single,
        Half half => (double)half,
        ReadOnlyMemory<char> text => text.ToString(),
        IEnumerable items => List(items),
        _ => value.ToString(),
    };

    private static List<object?> List(IEnumerable items)
    {
        var list = new List<object?>();
        foreach (var item in items)
        {
            list.Add(Cell(item));
        }

        return list;
    }
}
