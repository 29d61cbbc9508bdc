using System.Text.Json;
using Turbine.Jobs.Output;
using Turbine.Jobs.Storage;
using Turbine.Jobs.Store;

namespace Turbine.Jobs.Execution;

/// <summary>
/// <c>_SUMMARY.json</c>, written into the output folder when a job succeeds: rows, errors, time, rows per second, the
/// processor time its partitions took (the basis of its cost), and every part with its digest. Its presence says the
/// output is complete, as Hadoop's <c>_SUCCESS</c> does.
/// </summary>
public static class JobSummary
{
    /// <summary>The summary's file name.</summary>
    public const string FileName = "_SUMMARY.json";

    /// <summary>Writes the summary of a finished job (whole, by publishing a scratch file).</summary>
    public static async Task WriteAsync(IJobStorage storage, JobRecord job, IReadOnlyList<FinishedPartition> parts, DateTimeOffset finishedAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(parts);
        var output = job.Definition.Output.Uri;
        var path = Path.Combine(storage.ScratchFolder(output), $"summary-{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var file = File.Create(path))
            await using (var writer = new Utf8JsonWriter(file, OutputJson.Indented))
            {
                var rows = parts.Sum(p => p.Rows);
                var errors = parts.Sum(p => p.Errors);
                var seconds = job.StartedAt is { } started ? Math.Max((finishedAt - started).TotalSeconds, 0.001) : 0;
                writer.WriteStartObject();
                writer.WriteString("job", job.Id);
                writer.WriteString("model", job.Definition.Model);
                if (job.Definition.Version is { } version)
                {
                    writer.WriteString("version", version);
                }

                writer.WriteString("input", job.Definition.Input.Uri);
                writer.WriteNumber("rows", rows + errors);
                writer.WriteNumber("scored", rows);
                writer.WriteNumber("errors", errors);
                writer.WriteNumber("partitions", parts.Count);
                writer.WriteNumber("seconds", Math.Round(seconds, 3));
                writer.WriteNumber("rows_per_second", seconds > 0 ? Math.Round((rows + errors) / seconds, 1) : 0);
                writer.WriteNumber("cpu_seconds", Math.Round(parts.Sum(p => p.CpuTime.TotalSeconds), 3));
                writer.WriteNumber("output_bytes", parts.Sum(p => p.Bytes));
                writer.WriteString("started_at", job.StartedAt?.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
                writer.WriteString("finished_at", finishedAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
                writer.WriteStartArray("parts");
                foreach (var part in parts)
                {
                    writer.WriteStartObject();
                    writer.WriteNumber("index", part.Index);
                    writer.WriteNumber("rows", part.Rows);
                    writer.WriteNumber("errors", part.Errors);
                    writer.WriteString("sha256", part.Sha256);
                    writer.WriteNumber("bytes", part.Bytes);
                    writer.WriteNumber("attempts", part.Attempts);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            await storage.PublishAsync(path, output, FileName, cancellationToken);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
