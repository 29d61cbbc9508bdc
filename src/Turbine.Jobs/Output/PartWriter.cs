using Turbine.Jobs.Definition;
using Turbine.Jobs.Mapping;

namespace Turbine.Jobs.Output;

/// <summary>Writes one partition's scored rows in the output format: the key columns (or <c>_row</c>), then each output.</summary>
public abstract class PartWriter : IAsyncDisposable
{
    /// <summary>The column that numbers rows when a job names no key columns.</summary>
    public const string RowColumn = "_row";

    /// <summary>A writer of <paramref name="format"/> over <paramref name="stream"/>, which it owns.</summary>
    public static PartWriter Create(DataFormat format, Stream stream, IReadOnlyList<string> keys, IReadOnlyList<string> outputs, string model) => format switch
    {
        DataFormat.Csv => new CsvPartWriter(stream, keys, outputs),
        DataFormat.Parquet => new ParquetPartWriter(stream, keys, outputs),
        DataFormat.KServe => new KServePartWriter(stream, model),
        _ => new JsonLinesPartWriter(stream, keys),
    };

    /// <summary>Writes one scored row.</summary>
    public abstract ValueTask WriteAsync(ScoredRow row, CancellationToken cancellationToken);

    /// <summary>Writes what is buffered and flushes it to the disk (not just the OS), so a rename after it publishes whole data.</summary>
    public abstract ValueTask CompleteAsync(CancellationToken cancellationToken);

    /// <inheritdoc />
    public abstract ValueTask DisposeAsync();

    /// <summary>The key values of a row as written: its keys, or its number when the job names none.</summary>
    protected static object?[] KeyValues(ScoredRow row, int keyCount) => keyCount == 0 ? [row.Number] : row.Keys;

    /// <summary>The header names of the key columns.</summary>
    protected static IReadOnlyList<string> KeyNames(IReadOnlyList<string> keys) => keys.Count == 0 ? [RowColumn] : keys;

    /// <summary>Flushes a file stream through to the disk.</summary>
    internal static async ValueTask FlushToDiskAsync(Stream stream, CancellationToken cancellationToken)
    {
        await stream.FlushAsync(cancellationToken);
        if (stream is FileStream file)
        {
            file.Flush(flushToDisk: true);
        }
    }
}
