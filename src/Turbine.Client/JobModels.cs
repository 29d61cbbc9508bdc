using System.Text.Json.Serialization;

namespace Turbine.Client;

/// <summary>A batch job as the server reports it (docs/BATCH.md).</summary>
/// <param name="Id">The job's id.</param>
/// <param name="State">queued, validating, running, paused, succeeded, failed or cancelled.</param>
/// <param name="Reason">Why it failed, was cancelled or paused.</param>
/// <param name="Model">The model it scores with.</param>
/// <param name="CreatedAt">When it was submitted.</param>
/// <param name="StartedAt">When its partitions were planned.</param>
/// <param name="FinishedAt">When it reached a final state.</param>
/// <param name="Progress">How far it is.</param>
public sealed record BatchJob(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("reason")] string? Reason,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("started_at")] DateTimeOffset? StartedAt,
    [property: JsonPropertyName("finished_at")] DateTimeOffset? FinishedAt,
    [property: JsonPropertyName("progress")] BatchJobProgress Progress)
{
    /// <summary>Whether the job will not change again (unless a failed one is resumed).</summary>
    public bool IsFinal => State is "succeeded" or "failed" or "cancelled";
}

/// <summary>A job's partitions and rows so far.</summary>
/// <param name="Partitions">Partitions planned.</param>
/// <param name="PartitionsDone">Partitions written.</param>
/// <param name="Rows">Input rows.</param>
/// <param name="RowsDone">Rows scored or written as errors.</param>
/// <param name="Errors">Row errors (in the dead-letter files).</param>
/// <param name="OutputBytes">Bytes of the part files.</param>
/// <param name="Percent">Rows done over rows, in percent.</param>
/// <param name="RowsPerSecond">Rows done per second since it started.</param>
/// <param name="EtaSeconds">Seconds left at that rate, while it runs.</param>
public sealed record BatchJobProgress(
    [property: JsonPropertyName("partitions")] int Partitions,
    [property: JsonPropertyName("partitions_done")] int PartitionsDone,
    [property: JsonPropertyName("rows")] long Rows,
    [property: JsonPropertyName("rows_done")] long RowsDone,
    [property: JsonPropertyName("errors")] long Errors,
    [property: JsonPropertyName("output_bytes")] long OutputBytes,
    [property: JsonPropertyName("percent")] double Percent,
    [property: JsonPropertyName("rows_per_second")] double? RowsPerSecond,
    [property: JsonPropertyName("eta_seconds")] double? EtaSeconds);

/// <summary>The jobs a server knows, newest first.</summary>
/// <param name="Jobs">The jobs.</param>
public sealed record BatchJobList([property: JsonPropertyName("jobs")] IReadOnlyList<BatchJob> Jobs);

/// <summary>A job's output files.</summary>
/// <param name="State">The job's state.</param>
/// <param name="Output">Its output location.</param>
/// <param name="Files">Its parts, dead letters (<c>errors/...</c>) and summary, by name.</param>
public sealed record BatchJobResults(
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("output")] string Output,
    [property: JsonPropertyName("files")] IReadOnlyList<string> Files);
