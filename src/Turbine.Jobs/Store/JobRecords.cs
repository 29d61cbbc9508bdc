using Turbine.Jobs.Definition;

namespace Turbine.Jobs.Store;

/// <summary>A job as the store holds it.</summary>
/// <param name="Id">The job's id.</param>
/// <param name="Definition">What it scores.</param>
/// <param name="State">Where it stands.</param>
/// <param name="Reason">Why it failed, was cancelled or paused; null otherwise.</param>
/// <param name="CreatedAt">When it was submitted.</param>
/// <param name="StartedAt">When its partitions were planned.</param>
/// <param name="FinishedAt">When it reached a final state.</param>
/// <param name="Columns">The input's columns, once planned; null before.</param>
/// <param name="Progress">Its partitions and rows so far.</param>
public sealed record JobRecord(
    string Id,
    JobDefinition Definition,
    JobState State,
    string? Reason,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    IReadOnlyList<string>? Columns,
    JobProgress Progress);

/// <summary>How far a job is.</summary>
/// <param name="Partitions">Partitions planned.</param>
/// <param name="PartitionsDone">Partitions written.</param>
/// <param name="Rows">Input rows (0 until planned).</param>
/// <param name="RowsDone">Rows scored or written as errors, in finished partitions and, as last reported, in running ones.</param>
/// <param name="Errors">Row errors in finished partitions.</param>
/// <param name="OutputBytes">Bytes of the part files written.</param>
public sealed record JobProgress(int Partitions, int PartitionsDone, long Rows, long RowsDone, long Errors, long OutputBytes)
{
    /// <summary>Nothing planned yet.</summary>
    public static JobProgress None { get; } = new(0, 0, 0, 0, 0, 0);
}

/// <summary>A partition's place in its input: a range of rows, and where it starts in the file.</summary>
/// <param name="Index">Its number, from 0; it names the part file.</param>
/// <param name="FirstRow">The first row's number in the whole input, from 0.</param>
/// <param name="Rows">Rows it holds.</param>
/// <param name="ByteOffset">Where its first row starts in the file (CSV, JSON lines), or its row group (Parquet).</param>
/// <param name="ByteLength">Bytes it spans (CSV, JSON lines); 0 for Parquet.</param>
public sealed record PartitionSpan(int Index, long FirstRow, long Rows, long ByteOffset, long ByteLength);

/// <summary>A job's partitioning and the input's columns, made once by whichever worker validates the job.</summary>
/// <param name="Columns">The input's column names (CSV header, JSON keys seen, Parquet schema).</param>
/// <param name="Partitions">The partitions, in input order.</param>
public sealed record JobPlan(IReadOnlyList<string> Columns, IReadOnlyList<PartitionSpan> Partitions)
{
    /// <summary>Rows in the input.</summary>
    public long Rows => Partitions.Sum(p => p.Rows);
}

/// <summary>A partition a worker holds: until its lease runs out, or it is completed.</summary>
/// <param name="JobId">Its job.</param>
/// <param name="Span">Which rows.</param>
/// <param name="Owner">The worker holding it.</param>
/// <param name="Attempt">How many times it has been leased, this time included: a completion names it, so only the latest holder's counts.</param>
public sealed record PartitionLease(string JobId, PartitionSpan Span, string Owner, int Attempt);

/// <summary>What a finished partition wrote.</summary>
/// <param name="Rows">Rows scored.</param>
/// <param name="Errors">Rows written to the dead-letter file instead.</param>
/// <param name="Sha256">The part file's digest.</param>
/// <param name="Bytes">The part file's size.</param>
/// <param name="CpuTime">Processor time the partition's scoring took, as the worker measured it.</param>
public sealed record PartitionResult(long Rows, long Errors, string Sha256, long Bytes, TimeSpan CpuTime);

/// <summary>A finished partition, as the job's summary lists it.</summary>
/// <param name="Index">Its number.</param>
/// <param name="Rows">Rows scored.</param>
/// <param name="Errors">Row errors.</param>
/// <param name="Sha256">The part file's digest.</param>
/// <param name="Bytes">The part file's size.</param>
/// <param name="Attempts">Times it was leased.</param>
/// <param name="CpuTime">Processor time its scoring took.</param>
public sealed record FinishedPartition(int Index, long Rows, long Errors, string Sha256, long Bytes, int Attempts, TimeSpan CpuTime);
