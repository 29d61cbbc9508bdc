using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Turbine.Protocols.KServe;
using Turbine.Registry;
using Turbine.Server.Hosting;
using Turbine.Server.Registry;

namespace Turbine.Server.Http;

/// <summary>
/// The registry part of the control plane (docs/REGISTRY.md), behind the management rules like the rest of it
/// (SECURITY.md A1): models, versions with their manifests, aliases and tags, and the audit trail.
/// </summary>
internal static partial class RepositoryHttpEndpoints
{
    private static void MapRegistry(IEndpointRouteBuilder app)
    {
        app.MapGet("/v2/registry/models", (HttpContext context, RegistryProvider registries) =>
            RegistryAsync(context, registries, MaxSmallBody, async (registry, _) =>
            {
                var models = await registry.Store.ListModelsAsync(context.RequestAborted);
                return Reply.Of(w => Json(w, writer =>
                {
                    writer.WriteStartArray("models");
                    foreach (var model in models)
                    {
                        writer.WriteStartObject();
                        writer.WriteString("name", model.Name);
                        writer.WriteString("created_at", model.CreatedAt);
                        writer.WriteString("created_by", model.CreatedBy);
                        writer.WriteEndObject();
                    }

                    writer.WriteEndArray();
                }));
            }));

        app.MapGet("/v2/registry/models/{model}/versions", (HttpContext context, string model, RegistryProvider registries) =>
            RegistryAsync(context, registries, MaxSmallBody, async (registry, _) =>
            {
                var versions = await registry.Store.ListVersionsAsync(model, context.RequestAborted);
                var aliases = await registry.Store.ListAliasesAsync(model, context.RequestAborted);
                return versions.Count == 0
                    ? Reply.Of(InferenceError.NotFound($"the registry has no model '{ClientText.Quote(model)}'"))
                    : Reply.Of(w => Json(w, writer =>
                    {
                        writer.WriteStartArray("versions");
                        foreach (var version in versions)
                        {
                            WriteVersion(writer, version, reports: null);
                        }

                        writer.WriteEndArray();
                        writer.WriteStartObject("aliases");
                        foreach (var alias in aliases)
                        {
                            writer.WriteNumber(alias.Alias, alias.Version);
                        }

                        writer.WriteEndObject();
                    }));
            }));

        app.MapGet("/v2/registry/models/{model}/versions/{reference}", (HttpContext context, string model, string reference, RegistryProvider registries) =>
            RegistryAsync(context, registries, MaxSmallBody, async (registry, _) =>
            {
                var version = await registry.ResolveAsync(model, reference, context.RequestAborted);
                var reports = await registry.Store.ListReportsAsync(model, version.Version, context.RequestAborted);
                return Reply.Of(w => Json(w, writer => WriteVersionFields(writer, version, reports)));
            }));

        app.MapPut("/v2/registry/models/{model}/aliases/{alias}", (HttpContext context, string model, string alias, RegistryProvider registries, IOptions<TurbineServerOptions> options) =>
            RegistryAsync(context, registries, MaxSmallBody, async (registry, body) =>
            {
                var request = ReadObject(body, options.Value.MaxJsonDepth, "an alias move");
                if (!request.TryGetProperty("version", out var version) || version.ValueKind != JsonValueKind.Number || !version.TryGetInt64(out var number) || number < 1)
                {
                    return Reply.Of(InferenceError.Invalid("an alias move needs a positive integer 'version'"));
                }

                var moved = await registry.MoveAliasAsync(model, alias, number, Actor(request), Text(request, "reason") ?? "moved through the API", context.RequestAborted);
                return Reply.Of(w => Json(w, writer =>
                {
                    writer.WriteString("alias", moved!.Alias);
                    writer.WriteNumber("version", moved.Version);
                }));
            }));

        app.MapDelete("/v2/registry/models/{model}/aliases/{alias}", (HttpContext context, string model, string alias, RegistryProvider registries, IOptions<TurbineServerOptions> options) =>
            RegistryAsync(context, registries, MaxSmallBody, async (registry, body) =>
            {
                var request = body.IsEmpty ? default : ReadObject(body, options.Value.MaxJsonDepth, "an alias removal");
                await registry.MoveAliasAsync(model, alias, null, Actor(request), Text(request, "reason") ?? "removed through the API", context.RequestAborted);
                return Reply.Of(EmptyObject);
            }));

        app.MapPut("/v2/registry/models/{model}/versions/{version:long}/tags/{key}", (HttpContext context, string model, long version, string key, RegistryProvider registries, IOptions<TurbineServerOptions> options) =>
            RegistryAsync(context, registries, MaxSmallBody, async (registry, body) =>
            {
                var request = ReadObject(body, options.Value.MaxJsonDepth, "a tag");
                if (Text(request, "value") is not { } value)
                {
                    return Reply.Of(InferenceError.Invalid("a tag needs a string 'value'"));
                }

                await registry.Store.SetTagAsync(model, version, key, value, Actor(request), context.RequestAborted);
                return Reply.Of(EmptyObject);
            }));

        // A push is a model folder as an archive (zip, tar or tar.gz): not JSON, so it has a guard of its own.
        app.MapPost("/v2/registry/models/{model}/versions", async (HttpContext context, string model, RegistryProvider registries, IOptions<TurbineServerOptions> options) =>
        {
            if (context.RequestServices.GetRequiredService<ManagementAccess>().Check(context) is { } denied)
            {
                await HttpResults.WriteErrorAsync(context, denied);
                return;
            }

            if (context.Request.ContentType is not ("application/gzip" or "application/x-gzip" or "application/x-tar" or "application/zip" or "application/octet-stream"))
            {
                await HttpResults.WriteErrorAsync(context, StatusCodes.Status415UnsupportedMediaType, "a push takes the model folder as application/zip, application/x-tar or application/gzip");
                return;
            }

            if (await RequestBodyReader.ReadOrRefuseAsync(context, options.Value.MaxRequestBodyBytes) is not { } body)
            {
                return;
            }

            Reply reply;
            using (body)
            {
                reply = await RegistryReplyAsync(registries, context, async registry =>
                {
                    using var archive = new MemoryStream(body.Span.ToArray());
                    var pushed = await registry.PushArchiveAsync(model, archive, Actor(default), new Core.Repository.ArchiveLimits(MaxTotalBytes: 4L << 30), context.RequestAborted);
                    return Reply.Of(w => Json(w, writer =>
                    {
                        writer.WriteString("model", pushed.Model);
                        writer.WriteNumber("version", pushed.Version);
                        writer.WriteString("manifest_digest", pushed.Manifest.Digest());
                    }));
                });
            }

            await (reply.Error is not null ? HttpResults.WriteErrorAsync(context, reply.Error) : HttpResults.WriteJsonAsync(context, reply.Body!));
        });

        app.MapGet("/v2/registry/models/{model}/history", (HttpContext context, string model, RegistryProvider registries) =>
            RegistryAsync(context, registries, MaxSmallBody, async (registry, _) =>
            {
                DateTimeOffset? until = null;
                if (context.Request.Query["at"] is { Count: > 0 } at)
                {
                    if (!DateTimeOffset.TryParse(at[0], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
                    {
                        return Reply.Of(InferenceError.Invalid("'at' must be an ISO 8601 time, e.g. 2026-12-07T10:00:00Z"));
                    }

                    until = parsed;
                }

                var entries = await registry.Store.AuditAsync(model, until, context.RequestAborted);
                return Reply.Of(w => Json(w, writer =>
                {
                    writer.WriteStartArray("entries");
                    foreach (var entry in entries)
                    {
                        writer.WriteStartObject();
                        writer.WriteNumber("id", entry.Id);
                        writer.WriteString("at", entry.At);
                        writer.WriteString("kind", entry.Kind);
                        WriteOptional(writer, "subject", entry.Alias);
                        WriteOptional(writer, "version", entry.Version);
                        WriteOptional(writer, "previous", entry.Previous);
                        writer.WriteString("actor", entry.Actor);
                        writer.WriteString("detail", entry.Detail);
                        writer.WriteEndObject();
                    }

                    writer.WriteEndArray();
                }));
            }));
    }

    /// <summary>The management guard, then the registry (404 when none is configured, 503 when it cannot be reached), then the action.</summary>
    private static Task RegistryAsync(HttpContext context, RegistryProvider registries, int maxBody, Func<ModelRegistry, ReadOnlyMemory<byte>, Task<Reply>> action) =>
        GuardedAsync(context, maxBody, body => RegistryReplyAsync(registries, context, registry => action(registry, body)));

    /// <summary>Runs a registry action, its failures mapped to errors: what does not exist 404, a bad request 400, an unreachable database 503.</summary>
    private static async Task<Reply> RegistryReplyAsync(RegistryProvider registries, HttpContext context, Func<ModelRegistry, Task<Reply>> action)
    {
        if (!registries.Configured)
        {
            return Reply.Of(InferenceError.NotFound("this server has no registry (Turbine:Registry:Folder)"));
        }

        try
        {
            return await action(await registries.GetAsync(context.RequestAborted));
        }
        catch (RegistryException e)
        {
            return Reply.Of(e.NotFound ? InferenceError.NotFound(e.Message) : InferenceError.Invalid(e.Message));
        }
        catch (BadRequestBody e)
        {
            return Reply.Of(InferenceError.Invalid(e.Message));
        }
        catch (System.Data.Common.DbException)
        {
            return Reply.Of(InferenceError.Unavailable("the registry's database cannot be reached now; try again"));
        }
    }

    private static JsonElement ReadObject(ReadOnlyMemory<byte> body, int maxDepth, string what)
    {
        try
        {
            using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = maxDepth });
            return document.RootElement.ValueKind == JsonValueKind.Object
                ? document.RootElement.Clone()
                : throw new BadRequestBody($"{what} must be a JSON object");
        }
        catch (JsonException e)
        {
            throw new BadRequestBody($"{what} is not valid JSON: {e.Message}");
        }
    }

    private static string? Text(JsonElement request, string name) =>
        request.ValueKind == JsonValueKind.Object && request.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString()!.Length <= 500
            ? value.GetString()
            : null;

    private static string Actor(JsonElement request) => Text(request, "actor") is { Length: > 0 } actor ? $"api:{actor}" : "api";

    private static void WriteVersion(Utf8JsonWriter writer, ModelVersion version, IReadOnlyList<VersionReport>? reports)
    {
        writer.WriteStartObject();
        WriteVersionFields(writer, version, reports);
        writer.WriteEndObject();
    }

    private static void WriteVersionFields(Utf8JsonWriter writer, ModelVersion version, IReadOnlyList<VersionReport>? reports)
    {
        writer.WriteString("model", version.Model);
        writer.WriteNumber("version", version.Version);
        writer.WriteString("created_at", version.CreatedAt);
        writer.WriteString("created_by", version.CreatedBy);
        writer.WriteString("manifest_digest", version.Manifest.Digest());
        WriteOptional(writer, "signer", version.Signer);
        version.Manifest.WriteFiles(writer);
        WriteMap(writer, "lineage", version.Lineage);
        WriteMap(writer, "tags", version.Tags);
        if (reports is not null)
        {
            writer.WriteStartArray("reports");
            foreach (var report in reports)
            {
                writer.WriteStartObject();
                writer.WriteString("kind", report.Kind);
                writer.WriteString("at", report.At);
                writer.WriteString("body", report.Body);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }
    }

    private static void WriteMap(Utf8JsonWriter writer, string name, IReadOnlyDictionary<string, string> values)
    {
        writer.WriteStartObject(name);
        foreach (var (key, value) in values)
        {
            writer.WriteString(key, value);
        }

        writer.WriteEndObject();
    }

    private static void WriteOptional(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }

    private static void WriteOptional(Utf8JsonWriter writer, string name, long? value)
    {
        if (value is { } number)
        {
            writer.WriteNumber(name, number);
        }
    }

    private static void Json(IBufferWriter<byte> output, Action<Utf8JsonWriter> write)
    {
        using var writer = new Utf8JsonWriter(output, KServeJson.WriterOptions);
        writer.WriteStartObject();
        write(writer);
        writer.WriteEndObject();
    }

    /// <summary>A request body the registry endpoints cannot read.</summary>
    private sealed class BadRequestBody(string message) : Exception(message);
}
