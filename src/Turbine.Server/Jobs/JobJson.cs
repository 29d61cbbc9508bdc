using System.Text.Json;
using Turbine.Jobs;
using Turbine.Jobs.Store;

namespace Turbine.Server.Jobs;

/// <summary>A job as the REST API answers it: its state and reason, times, progress with rate and ETA, and its definition.</summary>
internal static class JobJson
{
    public static void Write(Utf8JsonWriter writer, JobRecord job, DateTimeOffset now)
    {
        writer.WriteString("id", job.Id);
        writer.WriteString("state", job.State.Name());
        if (job.Reason is { } reason)
        {
            writer.WriteString("reason", reason);
        }

        writer.WriteString("model", job.Definition.Model);
        if (job.Definition.Version is { } version)
        {
            writer.WriteString("version", version);
        }

        writer.WriteString("created_at", job.CreatedAt);
        if (job.StartedAt is { } started)
        {
            writer.WriteString("started_at", started);
        }

        if (job.FinishedAt is { } finished)
        {
            writer.WriteString("finished_at", finished);
        }

        var progress = job.Progress;
        writer.WriteStartObject("progress");
        writer.WriteNumber("partitions", progress.Partitions);
        writer.WriteNumber("partitions_done", progress.PartitionsDone);
        writer.WriteNumber("rows", progress.Rows);
        writer.WriteNumber("rows_done", progress.RowsDone);
        writer.WriteNumber("errors", progress.Errors);
        writer.WriteNumber("output_bytes", progress.OutputBytes);
        writer.WriteNumber("percent", progress.Rows == 0 ? (job.State == JobState.Succeeded ? 100 : 0) : Math.Round(100.0 * progress.RowsDone / progress.Rows, 1));
        if (job.StartedAt is { } since && progress.RowsDone > 0)
        {
            var seconds = Math.Max(((job.FinishedAt ?? now) - since).TotalSeconds, 0.001);
            var rate = progress.RowsDone / seconds;
            writer.WriteNumber("rows_per_second", Math.Round(rate, 1));
            if (!job.State.IsFinal())
            {
                writer.WriteNumber("eta_seconds", Math.Round((progress.Rows - progress.RowsDone) / rate, 1));
            }
        }

        writer.WriteEndObject();
        writer.WritePropertyName("definition");
        writer.WriteRawValue(Turbine.Jobs.Definition.JobDefinitionJson.Write(job.Definition), skipInputValidation: true);
    }
}
