using System.Runtime.CompilerServices;
using Parquet;
using Parquet.Schema;
using Turbine.Jobs.Storage;
using Turbine.Jobs.Store;

namespace Turbine.Jobs.Formats;

/// <summary>
/// Apache Parquet (Parquet.Net): one partition per row group, read on its own, column by column (only the columns the
/// job uses). Columns of numbers, booleans, strings and lists of those can feed model inputs; a column the job reads of any other type (a map, a struct, a date, a decimal)
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

    public override async IAsyncEnumerable<SourceRow> ReadAsync(IJobStorage storage, string uri, IReadOnlyList<string> columns, IReadOnlySet<string> usedColumns, PartitionSpan span, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var path = await storage.LocalCopyAsync(uri, cancellationToken);
        var cells = new object?[span.Rows][];
        for (var r = 0; r < cells.Length; r++)
        {
            cells[r] = new object?[columns.Count];
        }

        await using (var stream = File.OpenRead(path))
        await using (var reader = await ParquetReader.CreateAsync(stream, Options, cancellationToken: cancellationToken))
        using (var group = reader.OpenRowGroupReader((int)span.ByteOffset))
        {
            // Column by column, as Parquet stores them, and only the columns the job reads.
            for (var c = 0; c < columns.Count; c++)
            {
                if (usedColumns.Contains(columns[c]) && reader.Schema.Fields.FirstOrDefault(f => f.Name == columns[c]) is { } field && Unsupported(field) is null)
                {
                    var (data, list) = field is ListField listField ? ((DataField)listField.Item, true) : ((DataField)field, ((DataField)field).IsArray);
                    await ParquetColumns.ReadAsync(group, data, list, cells, c, cancellationToken);
                }
            }
        }

        for (var r = 0; r < cells.Length; r++)
        {
            yield return new SourceRow(span.FirstRow + r, cells[r], null);
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
}
