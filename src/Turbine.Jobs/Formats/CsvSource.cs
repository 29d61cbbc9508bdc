using System.Runtime.CompilerServices;
using CsvHelper;
using Turbine.Jobs.Storage;
using Turbine.Jobs.Store;

namespace Turbine.Jobs.Formats;

/// <summary>
/// RFC 4180 CSV with a header (CsvHelper). Planning reads the whole file once and notes the byte offset of each
/// partition's first record, so a partition is read from its offset alone, quoted line breaks and all. Cells are text;
/// coercion turns them into numbers. A record with the wrong field count or broken quoting is a row error.
/// </summary>
internal sealed class CsvSource : RowSource
{
    private static readonly CsvReaderOptions Options = CsvReaderOptions.Default with
    {
        Separator = ',',
        MaxRecordSize = MaxRecordBytes,
        SkipEmptyLines = true,
    };

    public override async Task<JobPlan> PlanAsync(IJobStorage storage, string uri, int partitionRows, IReadOnlySet<string> usedColumns, CancellationToken cancellationToken)
    {
        var length = await storage.LengthAsync(uri, cancellationToken);
        await using var stream = await storage.OpenReadAsync(uri, 0, -1, cancellationToken);
        using var reader = CsvReader.Create(stream, Options, leaveOpen: false);
        var partitions = new List<PartitionSpan>();
        string[] columns;
        try
        {
            await reader.ReadHeaderAsync(cancellationToken);
            columns = [.. reader.Headers];
            long rows = 0;
            long partitionStart = 0;
            var start = 0L;
            while (await reader.ReadAsync(cancellationToken))
            {
                if (rows - partitionStart == partitionRows)
                {
                    partitions.Add(new PartitionSpan(partitions.Count, partitionStart, rows - partitionStart, start, reader.ByteOffset - start));
                    partitionStart = rows;
                }

                if (rows == partitionStart)
                {
                    start = reader.ByteOffset;
                }

                rows++;
            }

            if (rows > partitionStart)
            {
                partitions.Add(new PartitionSpan(partitions.Count, partitionStart, rows - partitionStart, start, length - start));
            }
        }
        catch (CsvFormatException e)
        {
            throw new JobValidationException($"the input is not CSV that can be read: {e.Message}", e);
        }

        if (columns.Length == 0)
        {
            throw new JobValidationException("the CSV input has no header row");
        }

        return new JobPlan(columns, partitions);
    }

    public override async IAsyncEnumerable<SourceRow> ReadAsync(IJobStorage storage, string uri, IReadOnlyList<string> columns, IReadOnlySet<string> usedColumns, PartitionSpan span, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Record numbers of malformed records: the reader reports them as it scans, possibly ahead of the record it returns.
        var malformed = new Dictionary<long, CsvMalformedReason>();
        var options = Options with { HasHeader = false, OnMalformedRecord = record => malformed[record.RecordNumber] = record.Reason };
        await using var stream = await storage.OpenReadAsync(uri, span.ByteOffset, span.ByteLength, cancellationToken);
        using var reader = CsvReader.Create(stream, options, leaveOpen: false);
        for (long read = 0; read < span.Rows && await reader.ReadAsync(cancellationToken); read++)
        {
            var number = span.FirstRow + read;
            if (malformed.Remove(reader.RowNumber, out var reason))
            {
                yield return SourceRow.Failed(number, $"malformed CSV record ({Describe(reason)})");
            }
            else if (reader.FieldCount != columns.Count)
            {
                yield return SourceRow.Failed(number, $"the CSV record has {reader.FieldCount} fields, the header {columns.Count}");
            }
            else
            {
                var cells = new object?[columns.Count];
                for (var i = 0; i < cells.Length; i++)
                {
                    cells[i] = reader.GetString(i);
                }

                yield return new SourceRow(number, cells, null);
            }
        }
    }

    private static string Describe(CsvMalformedReason reason) => reason switch
    {
        CsvMalformedReason.StrayQuote => "a quote inside an unquoted field",
        CsvMalformedReason.TextAfterClosingQuote => "text after a closing quote",
        CsvMalformedReason.UnterminatedQuote => "a quoted field that is never closed",
        CsvMalformedReason.LineBreakInQuotes => "a line break inside quotes",
        CsvMalformedReason.FieldCountMismatch => "the wrong number of fields",
        _ => reason.ToString(),
    };
}
