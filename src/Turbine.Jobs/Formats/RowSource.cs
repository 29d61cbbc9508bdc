using Turbine.Jobs.Definition;
using Turbine.Jobs.Storage;
using Turbine.Jobs.Store;

namespace Turbine.Jobs.Formats;

/// <summary>Reads one input format: plans its partitions once, then reads any partition on its own, in any process.</summary>
public abstract class RowSource
{
    /// <summary>The largest record read (a CSV record, a JSON line): past it the input is refused at planning, not buffered.</summary>
    public const int MaxRecordBytes = 64 << 20;

    /// <summary>The reader of <paramref name="format"/>.</summary>
    public static RowSource For(DataFormat format) => format switch
    {
        DataFormat.Csv => new CsvSource(),
        DataFormat.JsonLines => new JsonLinesSource(),
        DataFormat.Parquet => new ParquetSource(),
        _ => new KServeLinesSource(),
    };

    /// <summary>
    /// Reads the input once: its columns, and partitions of about <paramref name="partitionRows"/> rows with where each
    /// starts. <paramref name="usedColumns"/> are the columns the job reads, which a format checks it can read.
    /// </summary>
    /// <exception cref="JobValidationException">The input cannot be read as this format.</exception>
    public abstract Task<JobPlan> PlanAsync(IJobStorage storage, string uri, int partitionRows, IReadOnlySet<string> usedColumns, CancellationToken cancellationToken);

    /// <summary>The rows of one partition, in order; a columnar format reads only <paramref name="usedColumns"/> (the others are null).</summary>
    public abstract IAsyncEnumerable<SourceRow> ReadAsync(IJobStorage storage, string uri, IReadOnlyList<string> columns, IReadOnlySet<string> usedColumns, PartitionSpan span, CancellationToken cancellationToken);
}
