using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Turbine.Server.Http;
using Turbine.Server.Jobs;

namespace Turbine.Server.OpenAi.Batches;

/// <summary>
/// The OpenAI Files and Batch APIs (<c>/v1/files</c>, <c>/v1/batches</c>), on a server with a jobs folder
/// (<c>Turbine:Jobs:Folder</c>); without one they answer 404 saying so. They are account-wide, so an API key limited to
/// some models is refused them (403).
/// </summary>
internal static class BatchEndpoints
{
    private const long MaxMetadataKeys = 16;

    public static void MapOpenAiBatches(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/files", UploadAsync);
        app.MapGet("/v1/files", (HttpContext context) => GuardedAsync(context, (files, _) =>
            WriteAsync(context, w => WriteList(w, files.List(), (writer, file) => JsonSerializer.Serialize(writer, file)))));
        app.MapGet("/v1/files/{id}", (HttpContext context, string id) => GuardedAsync(context, (files, _) =>
            files.Find(id) is { } file ? WriteAsync(context, w => JsonSerializer.Serialize(w, file)) : NotFound(context, "file", id)));
        app.MapGet("/v1/files/{id}/content", (HttpContext context, string id) => GuardedAsync(context, async (files, _) =>
        {
            if (files.Find(id) is null)
            {
                await NotFound(context, "file", id);
                return;
            }

            context.Response.ContentType = "application/jsonl";
            await context.Response.SendFileAsync(files.ContentPath(id), context.RequestAborted);
        }));
        app.MapDelete("/v1/files/{id}", (HttpContext context, string id) => GuardedAsync(context, (files, _) => files.Delete(id)
            ? WriteAsync(context, w =>
            {
                w.WriteStartObject();
                w.WriteString("id", id);
                w.WriteString("object", "file");
                w.WriteBoolean("deleted", true);
                w.WriteEndObject();
            })
            : NotFound(context, "file", id)));
        app.MapPost("/v1/batches", CreateAsync);
        app.MapGet("/v1/batches", (HttpContext context) => GuardedAsync(context, async (_, batches) =>
        {
            var all = await batches.ListAsync(context.RequestAborted);
            var written = new List<(BatchRecord, string, Turbine.Jobs.Store.JobRecord?)>();
            foreach (var batch in all)
            {
                var (status, job) = await batches.StatusAsync(batch, context.RequestAborted);
                written.Add((batch, status, job));
            }

            await WriteAsync(context, w => WriteList(w, written, (writer, item) => BatchJson.Write(writer, item.Item1, item.Item2, item.Item3)));
        }));
        app.MapGet("/v1/batches/{id}", (HttpContext context, string id) => GuardedAsync(context, async (_, batches) =>
            await WriteBatchAsync(context, batches, await batches.GetAsync(id, context.RequestAborted), id)));
        app.MapPost("/v1/batches/{id}/cancel", (HttpContext context, string id) => GuardedAsync(context, async (_, batches) =>
            await WriteBatchAsync(context, batches, await batches.CancelAsync(id, context.RequestAborted), id)));
    }

    private static async Task UploadAsync(HttpContext context) => await GuardedAsync(context, async (files, _) =>
    {
        if (!context.Request.HasFormContentType)
        {
            await OpenAiError.Invalid("upload a file as multipart/form-data with the fields 'file' and 'purpose'", "file").WriteAsync(context);
            return;
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var purpose = form["purpose"].ToString();
        if (form.Files.GetFile("file") is not { } upload)
        {
            await OpenAiError.Invalid("the form has no 'file'", "file").WriteAsync(context);
            return;
        }

        if (purpose != "batch")
        {
            await OpenAiError.Invalid($"'purpose' '{ClientText.Quote(purpose)}' is not served: this server keeps files for batches ('batch')", "purpose").WriteAsync(context);
            return;
        }

        await using var content = upload.OpenReadStream();
        var file = await files.SaveAsync(content, upload.FileName, purpose, context.RequestAborted);
        await WriteAsync(context, w => JsonSerializer.Serialize(w, file));
    });

    private static async Task CreateAsync(HttpContext context) => await GuardedAsync(context, async (_, batches) =>
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(context.Request.Body, new JsonDocumentOptions { MaxDepth = 16 }, context.RequestAborted);
        }
        catch (JsonException)
        {
            await OpenAiError.Invalid("the request body is not valid JSON").WriteAsync(context);
            return;
        }

        using var parsed = document;
        var body = document.RootElement;
        if (body.ValueKind != JsonValueKind.Object)
        {
            await OpenAiError.Invalid("the request body must be a JSON object").WriteAsync(context);
            return;
        }

        var input = body.TryGetProperty("input_file_id", out var file) && file.ValueKind == JsonValueKind.String ? file.GetString()! : null;
        var endpoint = body.TryGetProperty("endpoint", out var url) && url.ValueKind == JsonValueKind.String ? url.GetString()! : null;
        var window = body.TryGetProperty("completion_window", out var w) && w.ValueKind == JsonValueKind.String ? w.GetString()! : null;
        JsonElement? metadata = body.TryGetProperty("metadata", out var m) && m.ValueKind == JsonValueKind.Object ? m.Clone() : null;
        var error = input is null ? OpenAiError.Invalid("'input_file_id' is required", "input_file_id")
            : endpoint is null || !OpenAiBatches.Endpoints.Contains(endpoint) ? OpenAiError.Invalid($"'endpoint' must be one of {string.Join(", ", OpenAiBatches.Endpoints)}", "endpoint")
            : window != "24h" ? OpenAiError.Invalid("'completion_window' must be 24h", "completion_window")
            : metadata is { } given && given.EnumerateObject().Count() > MaxMetadataKeys ? OpenAiError.Invalid("'metadata' holds at most 16 keys", "metadata")
            : null;
        if (error is not null)
        {
            await error.WriteAsync(context);
            return;
        }

        var (batch, refused) = await batches.CreateAsync(input!, endpoint!, window!, metadata, context.RequestAborted);
        if (refused is not null)
        {
            await refused.WriteAsync(context);
            return;
        }

        await WriteBatchAsync(context, batches, batch, batch!.Id);
    });

    private static async Task WriteBatchAsync(HttpContext context, OpenAiBatches batches, BatchRecord? batch, string id)
    {
        if (batch is null)
        {
            await NotFound(context, "batch", id);
            return;
        }

        var (status, job) = await batches.StatusAsync(batch, context.RequestAborted);
        await WriteAsync(context, w => BatchJson.Write(w, batch, status, job));
    }

    /// <summary>Runs <paramref name="handle"/> when the server has a jobs folder and the key covers every model; answers why not otherwise.</summary>
    private static async Task GuardedAsync(HttpContext context, Func<OpenAiFiles, OpenAiBatches, Task> handle)
    {
        var services = context.RequestServices;
        var access = services.GetRequiredService<InferenceAccess>();
        if (access.Check(OpenAiRequest.Authorization(context), model: null) is { } denied)
        {
            await OpenAiError.From(denied).WriteAsync(context);
            return;
        }

        if (!services.GetRequiredService<JobsProvider>().Configured)
        {
            await new OpenAiError(StatusCodes.Status404NotFound, "the Batch API needs a jobs folder: start the server with Turbine:Jobs:Folder", "invalid_request_error").WriteAsync(context);
            return;
        }

        await handle(services.GetRequiredService<OpenAiFiles>(), services.GetRequiredService<OpenAiBatches>());
    }

    private static Task NotFound(HttpContext context, string kind, string id) =>
        new OpenAiError(StatusCodes.Status404NotFound, $"No {kind} with id '{ClientText.Quote(id)}'", "invalid_request_error", "id").WriteAsync(context);

    private static void WriteList<T>(Utf8JsonWriter writer, IEnumerable<T> items, Action<Utf8JsonWriter, T> write)
    {
        writer.WriteStartObject();
        writer.WriteString("object", "list");
        writer.WriteStartArray("data");
        foreach (var item in items)
        {
            write(writer, item);
        }

        writer.WriteEndArray();
        writer.WriteBoolean("has_more", false);
        writer.WriteEndObject();
    }

    private static async Task WriteAsync(HttpContext context, Action<Utf8JsonWriter> write)
    {
        using var buffer = new PooledBufferWriter();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
    }
}
