using System.Text.Json;
using Turbine.Jobs.Store;

namespace Turbine.Server.OpenAi.Batches;

/// <summary>The Batch API's batch object, field for field.</summary>
internal static class BatchJson
{
    private const long Day = 24 * 60 * 60;

    public static void Write(Utf8JsonWriter writer, BatchRecord batch, string status, JobRecord? job)
    {
        writer.WriteStartObject();
        writer.WriteString("id", batch.Id);
        writer.WriteString("object", "batch");
        writer.WriteString("endpoint", batch.Endpoint);
        writer.WriteNull("errors");
        writer.WriteString("input_file_id", batch.InputFileId);
        writer.WriteString("completion_window", batch.CompletionWindow);
        writer.WriteString("status", status);
        Nullable(writer, "output_file_id", batch.OutputFileId);
        Nullable(writer, "error_file_id", batch.ErrorFileId);
        writer.WriteNumber("created_at", batch.CreatedAt);
        Time(writer, "in_progress_at", job?.StartedAt?.ToUnixTimeSeconds());
        writer.WriteNumber("expires_at", batch.CreatedAt + Day);
        Time(writer, "finalizing_at", job?.FinishedAt?.ToUnixTimeSeconds() ?? (status == "completed" ? batch.CompletedAt : null));
        Time(writer, "completed_at", status == "completed" ? batch.CompletedAt : null);
        Time(writer, "failed_at", status == "failed" ? batch.CompletedAt : null);
        writer.WriteNull("expired_at");
        Time(writer, "cancelling_at", status is "cancelling" or "cancelled" ? job?.FinishedAt?.ToUnixTimeSeconds() : null);
        Time(writer, "cancelled_at", status == "cancelled" ? batch.CompletedAt : null);
        writer.WriteStartObject("request_counts");
        writer.WriteNumber("total", batch.Total);
        var (completed, failed) = batch.CompletedAt is not null ? (batch.Completed, batch.Failed)
            : job is null ? (0, batch.Rejected)
            : ((int)(job.Progress.RowsDone - job.Progress.Errors), batch.Rejected + (int)job.Progress.Errors);
        writer.WriteNumber("completed", completed);
        writer.WriteNumber("failed", failed);
        writer.WriteEndObject();
        if (batch.Metadata is { } metadata)
        {
            writer.WritePropertyName("metadata");
            metadata.WriteTo(writer);
        }
        else
        {
            writer.WriteNull("metadata");
        }

        writer.WriteEndObject();
    }

    private static void Nullable(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }

    private static void Time(Utf8JsonWriter writer, string name, long? value)
    {
        if (value is { } seconds)
        {
            writer.WriteNumber(name, seconds);
        }
        else
        {
            writer.WriteNull(name);
        }
    }
}
