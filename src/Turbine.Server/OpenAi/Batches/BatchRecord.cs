using System.Text.Json;

namespace Turbine.Server.OpenAi.Batches;

/// <summary>What a batch is, kept beside its requests (<c>openai/batches/{id}/batch.json</c>); its progress is its job's.</summary>
internal sealed record BatchRecord
{
    public required string Id { get; init; }

    public required string Endpoint { get; init; }

    public required string InputFileId { get; init; }

    public required string CompletionWindow { get; init; }

    public required long CreatedAt { get; init; }

    public JsonElement? Metadata { get; init; }

    /// <summary>Request lines in the input file.</summary>
    public int Total { get; init; }

    /// <summary>Lines refused before running (each has its line in the error file).</summary>
    public int Rejected { get; init; }

    /// <summary>Whether a job runs the lines that were not refused.</summary>
    public bool HasJob { get; init; }

    public string? OutputFileId { get; init; }

    public string? ErrorFileId { get; init; }

    public long? CompletedAt { get; init; }

    public int Completed { get; init; }

    public int Failed { get; init; }
}
