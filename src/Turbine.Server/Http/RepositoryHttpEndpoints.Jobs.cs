using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Turbine.Jobs;
using Turbine.Jobs.Definition;
using Turbine.Jobs.Execution;
using Turbine.Server.Jobs;

namespace Turbine.Server.Http;

/// <summary>
/// Batch jobs (docs/BATCH.md) behind the management rules (SECURITY.md A1): submit, list, progress, pause, resume,
/// cancel, and the output files. Local paths in a definition are relative to the server's job folder (A2).
/// </summary>
internal static partial class RepositoryHttpEndpoints
{
    private static void MapJobs(IEndpointRouteBuilder app)
    {
        app.MapPost("/v2/jobs", (HttpContext context, JobsProvider jobs, TimeProvider time) =>
            JobsAsync(context, jobs, MaxDefinitionBody, async (control, body) =>
            {
                var json = System.Text.Encoding.UTF8.GetString(body.Span);
                var id = ReadId(body);
                var definition = JobDefinitionJson.Read(json, out var errors);
                if (definition is null)
                {
                    return Reply.Of(InferenceError.Invalid(string.Join("; ", errors)));
                }

                var (outcome, message, job) = await control.SubmitAsync(definition, id, context.RequestAborted);
                return outcome switch
                {
                    JobChange.Done => Reply.Of(w => Json(w, writer => JobJson.Write(writer, job!, time.GetUtcNow()))),
                    JobChange.Conflict => Reply.Of(new InferenceError(StatusCode.FailedPrecondition, message)),
                    _ => Reply.Of(InferenceError.Invalid(message)),
                };
            }));

        app.MapGet("/v2/jobs", (HttpContext context, JobsProvider jobs, TimeProvider time) =>
            JobsAsync(context, jobs, MaxSmallBody, async (control, _) =>
            {
                var list = await control.Store.ListAsync(1000, context.RequestAborted);
                return Reply.Of(w => Json(w, writer =>
                {
                    writer.WriteStartArray("jobs");
                    foreach (var job in list)
                    {
                        writer.WriteStartObject();
                        JobJson.Write(writer, job, time.GetUtcNow());
                        writer.WriteEndObject();
                    }

                    writer.WriteEndArray();
                }));
            }));

        app.MapGet("/v2/jobs/{id}", (HttpContext context, string id, JobsProvider jobs, TimeProvider time) =>
            JobsAsync(context, jobs, MaxSmallBody, async (control, _) =>
                await control.Store.GetAsync(id, context.RequestAborted) is { } job
                    ? Reply.Of(w => Json(w, writer => JobJson.Write(writer, job, time.GetUtcNow())))
                    : Reply.Of(InferenceError.NotFound($"there is no job '{ClientText.Quote(id)}'"))));

        MapChange(app, "pause", (control, id, token) => control.PauseAsync(id, token));
        MapChange(app, "resume", (control, id, token) => control.ResumeAsync(id, token));
        MapChange(app, "cancel", (control, id, token) => control.CancelAsync(id, token));

        app.MapGet("/v2/jobs/{id}/results", (HttpContext context, string id, JobsProvider jobs) =>
            JobsAsync(context, jobs, MaxSmallBody, async (control, _) =>
            {
                if (await control.Store.GetAsync(id, context.RequestAborted) is not { } job)
                {
                    return Reply.Of(InferenceError.NotFound($"there is no job '{ClientText.Quote(id)}'"));
                }

                var files = await control.Storage.ListAsync(job.Definition.Output.Uri, context.RequestAborted);
                return Reply.Of(w => Json(w, writer =>
                {
                    writer.WriteString("state", job.State.Name());
                    writer.WriteString("output", job.Definition.Output.Uri);
                    writer.WriteStartArray("files");
                    foreach (var file in files.Where(f => f.StartsWith("part-", StringComparison.Ordinal) || f.StartsWith("errors/", StringComparison.Ordinal) || f == JobSummary.FileName))
                    {
                        writer.WriteStringValue(file);
                    }

                    writer.WriteEndArray();
                }));
            }));

        app.MapGet("/v2/jobs/{id}/results/{**name}", async (HttpContext context, string id, string name, JobsProvider jobs) =>
        {
            if (context.RequestServices.GetRequiredService<ManagementAccess>().Check(context) is { } denied)
            {
                await HttpResults.WriteErrorAsync(context, denied);
                return;
            }

            if (!jobs.Configured)
            {
                await HttpResults.WriteErrorAsync(context, NotConfigured);
                return;
            }

            var control = await jobs.GetAsync(context.RequestAborted);
            if (await control.Store.GetAsync(id, context.RequestAborted) is not { } job || !Core.Repository.RelativePaths.IsSafe(name))
            {
                await HttpResults.WriteErrorAsync(context, InferenceError.NotFound($"job '{ClientText.Quote(id)}' has no output file '{ClientText.Quote(name)}'"));
                return;
            }

            Stream file;
            try
            {
                file = await control.Storage.OpenOutputAsync(job.Definition.Output.Uri, name, context.RequestAborted);
            }
            catch (FileNotFoundException)
            {
                await HttpResults.WriteErrorAsync(context, InferenceError.NotFound($"job '{ClientText.Quote(id)}' has no output file '{ClientText.Quote(name)}'"));
                return;
            }

            await using (file)
            {
                context.Response.ContentType = name.EndsWith(".csv", StringComparison.Ordinal) ? "text/csv" : name.EndsWith(".parquet", StringComparison.Ordinal) ? "application/vnd.apache.parquet" : "application/json";
                await file.CopyToAsync(context.Response.Body, context.RequestAborted);
            }
        });
    }

    private static readonly InferenceError NotConfigured = InferenceError.NotFound("this server runs no batch jobs (Turbine:Jobs:Folder)");

    private static void MapChange(IEndpointRouteBuilder app, string action, Func<JobControl, string, CancellationToken, Task<(JobChange Outcome, string Message)>> change) =>
        app.MapPost($"/v2/jobs/{{id}}/{action}", (HttpContext context, string id, JobsProvider jobs, TimeProvider time) =>
            JobsAsync(context, jobs, MaxSmallBody, async (control, _) =>
            {
                var (outcome, message) = await change(control, id, context.RequestAborted);
                if (outcome != JobChange.Done)
                {
                    return Reply.Of(outcome == JobChange.NotFound ? InferenceError.NotFound(message) : new InferenceError(StatusCode.FailedPrecondition, message));
                }

                var job = (await control.Store.GetAsync(id, context.RequestAborted))!;
                return Reply.Of(w => Json(w, writer => JobJson.Write(writer, job, time.GetUtcNow())));
            }));

    private static Task JobsAsync(HttpContext context, JobsProvider jobs, int maxBody, Func<JobControl, ReadOnlyMemory<byte>, Task<Reply>> action) =>
        GuardedAsync(context, maxBody, async body =>
        {
            if (!jobs.Configured)
            {
                return Reply.Of(NotConfigured);
            }

            try
            {
                return await action(await jobs.GetAsync(context.RequestAborted), body);
            }
            catch (System.Data.Common.DbException)
            {
                return Reply.Of(InferenceError.Unavailable("the job store cannot be reached now; try again"));
            }
        });

    /// <summary>The optional <c>id</c> a submission names its job with.</summary>
    private static string? ReadId(ReadOnlyMemory<byte> body)
    {
        try
        {
            using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 64 });
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
        }
        catch (JsonException)
        {
            return null; // the definition's reader reports it
        }
    }
}
