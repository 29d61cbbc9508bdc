using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Turbine.Core.Observation;
using Turbine.Protocols.KServe;
using Turbine.Server.Hosting;
using Turbine.Server.Observability;
using Turbine.Traffic;

namespace Turbine.Server.Http;

/// <summary>
/// Triton's logging and trace extensions: <c>GET/POST /v2/logging</c>, <c>GET/POST /v2/trace/setting</c> and
/// <c>GET/POST /v2/models/{model}/trace/setting</c>. Reading answers as model metadata does; a change is a control-plane
/// call, behind the management rules.
/// </summary>
internal static class ObservabilityEndpoints
{
    private const int MaxSettingsBody = 16 * 1024;

    public static void MapObservability(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v2/logging", (HttpContext context, LoggingSettings logging) => WriteLoggingAsync(context, logging));
        app.MapPost("/v2/logging", (HttpContext context, LoggingSettings logging) =>
            ChangeAsync(context, root => ReadLogging(root, out var changes) ?? logging.Update(changes!), () => WriteLoggingAsync(context, logging)));

        app.MapGet("/v2/trace/setting", (HttpContext context, TraceSettings traces) => WriteTraceAsync(context, traces, null));
        app.MapPost("/v2/trace/setting", (HttpContext context, TraceSettings traces) =>
            ChangeAsync(context, root => ReadTrace(root, out var changes) ?? traces.Update(null, changes!), () => WriteTraceAsync(context, traces, null)));

        app.MapGet("/v2/models/{model}/trace/setting", (HttpContext context, string model, TraceSettings traces, InferenceService inference) =>
            inference.TryGetModel(model, null, out _) is { } missing ? HttpResults.WriteErrorAsync(context, missing) : WriteTraceAsync(context, traces, model));
        app.MapPost("/v2/models/{model}/trace/setting", (HttpContext context, string model, TraceSettings traces, InferenceService inference) =>
            inference.TryGetModel(model, null, out _) is { } missing
                ? HttpResults.WriteErrorAsync(context, missing)
                : ChangeAsync(context, root => ReadTrace(root, out var changes) ?? traces.Update(model, changes!), () => WriteTraceAsync(context, traces, model)));
    }

    /// <summary>Checks the management rules, reads a JSON object body, applies it, then answers with the settings now.</summary>
    private static async Task ChangeAsync(HttpContext context, Func<JsonElement, InferenceError?> apply, Func<Task> answer)
    {
        if (context.RequestServices.GetRequiredService<ManagementAccess>().Check(context) is { } denied)
        {
            await HttpResults.WriteErrorAsync(context, denied);
            return;
        }

        if (await RequestBodyReader.ReadOrRefuseAsync(context, MaxSettingsBody) is not { } body)
        {
            return;
        }

        InferenceError? error;
        using (body)
        {
            try
            {
                var depth = context.RequestServices.GetRequiredService<IOptions<TurbineServerOptions>>().Value.MaxJsonDepth;
                using var document = JsonDocument.Parse(body.Span.ToArray(), new JsonDocumentOptions { MaxDepth = depth });
                error = document.RootElement.ValueKind == JsonValueKind.Object ? apply(document.RootElement) : InferenceError.Invalid("the settings must be a JSON object");
            }
            catch (JsonException)
            {
                error = InferenceError.Invalid("the settings are not valid JSON");
            }
        }

        await (error is null ? answer() : HttpResults.WriteErrorAsync(context, error));
    }

    private static InferenceError? ReadLogging(JsonElement root, out Dictionary<string, object>? changes)
    {
        changes = [];
        foreach (var property in root.EnumerateObject())
        {
            object? value = property.Value.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                JsonValueKind.String => property.Value.GetString()!,
                JsonValueKind.Number when property.Value.TryGetInt32(out var number) => number,
                _ => null,
            };
            if (value is null)
            {
                return InferenceError.Invalid($"logging setting '{ClientText.Quote(property.Name)}' must be a boolean, an integer or a string");
            }

            changes[property.Name] = value;
        }

        return null;
    }

    /// <summary>Triton's trace values: a string, a list of strings (<c>trace_level</c>), or null to clear.</summary>
    private static InferenceError? ReadTrace(JsonElement root, out Dictionary<string, IReadOnlyList<string>?>? changes)
    {
        changes = [];
        foreach (var property in root.EnumerateObject())
        {
            switch (property.Value.ValueKind)
            {
                case JsonValueKind.Null:
                    changes[property.Name] = null;
                    break;
                case JsonValueKind.String:
                    changes[property.Name] = [property.Value.GetString()!];
                    break;
                case JsonValueKind.Array when property.Value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String):
                    changes[property.Name] = [.. property.Value.EnumerateArray().Select(v => v.GetString()!)];
                    break;
                default:
                    return InferenceError.Invalid($"trace setting '{ClientText.Quote(property.Name)}' must be a string, a list of strings or null");
            }
        }

        return null;
    }

    private static Task WriteLoggingAsync(HttpContext context, LoggingSettings logging) => HttpResults.WriteJsonAsync(context, output =>
    {
        using var writer = new Utf8JsonWriter(output, KServeJson.WriterOptions);
        writer.WriteStartObject();
        foreach (var (name, value) in logging.Describe())
        {
            switch (value)
            {
                case bool flag:
                    writer.WriteBoolean(name, flag);
                    break;
                case int number:
                    writer.WriteNumber(name, number);
                    break;
                default:
                    writer.WriteString(name, (string)value);
                    break;
            }
        }

        writer.WriteEndObject();
    });

    private static Task WriteTraceAsync(HttpContext context, TraceSettings traces, string? model) => HttpResults.WriteJsonAsync(context, output =>
    {
        using var writer = new Utf8JsonWriter(output, KServeJson.WriterOptions);
        writer.WriteStartObject();
        foreach (var (name, values) in traces.Describe(model))
        {
            if (name == TraceSettings.Level)
            {
                writer.WriteStartArray(name);
                foreach (var value in values)
                {
                    writer.WriteStringValue(value);
                }

                writer.WriteEndArray();
            }
            else
            {
                writer.WriteString(name, values[0]);
            }
        }

        writer.WriteEndObject();
    });
}
