using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Turbine.Protocols.KServe;
using Turbine.Server.SharedMemory;

namespace Turbine.Server.Http;

/// <summary>
/// Triton's shared-memory extension over REST: <c>/v2/systemsharedmemory[/region/{name}]/status</c>,
/// <c>.../region/{name}/register</c> and <c>[/region/{name}]/unregister</c>, behind the management rules and only
/// when enabled. CUDA shared memory is refused: this server shares no GPU memory.
/// </summary>
internal static class SharedMemoryEndpoints
{
    private const int MaxRegisterBody = 4096;

    public static InferenceError Disabled { get; } = InferenceError.Invalid("system shared memory is not enabled on this server (Turbine:SharedMemory:Enabled)");

    public static InferenceError CudaUnsupported { get; } =
        InferenceError.Invalid("CUDA shared memory is not supported: this server shares no GPU memory; use system shared memory");

    public static void MapSharedMemory(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v2/systemsharedmemory/status", (HttpContext context) => GuardedAsync(context, memory => StatusAsync(context, memory, null)));
        app.MapGet("/v2/systemsharedmemory/region/{name}/status", (HttpContext context, string name) => GuardedAsync(context, memory => StatusAsync(context, memory, name)));
        app.MapPost("/v2/systemsharedmemory/region/{name}/register", (HttpContext context, string name) => GuardedAsync(context, memory => RegisterAsync(context, memory, name)));
        app.MapPost("/v2/systemsharedmemory/unregister", (HttpContext context) => GuardedAsync(context, memory => UnregisterAsync(context, memory, null)));
        app.MapPost("/v2/systemsharedmemory/region/{name}/unregister", (HttpContext context, string name) => GuardedAsync(context, memory => UnregisterAsync(context, memory, name)));
        app.Map("/v2/cudasharedmemory/{**rest}", (HttpContext context) => HttpResults.WriteErrorAsync(context, CudaUnsupported));
    }

    private static Task GuardedAsync(HttpContext context, Func<SystemSharedMemory, Task> action)
    {
        if (context.RequestServices.GetService<SystemSharedMemory>() is not { } memory)
        {
            return HttpResults.WriteErrorAsync(context, Disabled);
        }

        return context.RequestServices.GetRequiredService<ManagementAccess>().Check(context) is { } denied
            ? HttpResults.WriteErrorAsync(context, denied)
            : action(memory);
    }

    private static Task StatusAsync(HttpContext context, SystemSharedMemory memory, string? name)
    {
        var regions = memory.Status(name);
        if (name is not null && regions.Count == 0)
        {
            return HttpResults.WriteErrorAsync(context, InferenceError.NotFound($"Unable to find system shared memory region: '{ClientText.Quote(name)}'"));
        }

        return HttpResults.WriteJsonAsync(context, output =>
        {
            using var writer = new Utf8JsonWriter(output, KServeJson.WriterOptions);
            writer.WriteStartArray();
            foreach (var region in regions)
            {
                writer.WriteStartObject();
                writer.WriteString("name"u8, region.Name);
                writer.WriteString("key"u8, region.Key);
                writer.WriteNumber("offset"u8, region.Offset);
                writer.WriteNumber("byte_size"u8, region.ByteSize);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        });
    }

    private static async Task RegisterAsync(HttpContext context, SystemSharedMemory memory, string name)
    {
        if (await RequestBodyReader.ReadOrRefuseAsync(context, MaxRegisterBody) is not { } body)
        {
            return;
        }

        InferenceError? error;
        using (body)
        {
            error = ReadRegistration(body.Span, out var key, out var offset, out var byteSize) ?? memory.Register(name, key!, offset, byteSize);
        }

        await (error is null ? HttpResults.WriteJsonAsync(context, static w => w.Write("{}"u8)) : HttpResults.WriteErrorAsync(context, error));
    }

    private static Task UnregisterAsync(HttpContext context, SystemSharedMemory memory, string? name)
    {
        memory.Unregister(name);
        return HttpResults.WriteJsonAsync(context, static w => w.Write("{}"u8));
    }

    /// <summary><c>{"key": "/name", "offset": 0, "byte_size": 64}</c>, as Triton's clients send it.</summary>
    private static InferenceError? ReadRegistration(ReadOnlySpan<byte> body, out string? key, out long offset, out long byteSize)
    {
        (key, offset, byteSize) = (null, 0, 0);
        try
        {
            using var document = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { MaxDepth = 4 });
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object &&
                root.TryGetProperty("key", out var keyElement) && keyElement.ValueKind == JsonValueKind.String &&
                root.TryGetProperty("byte_size", out var size) && size.TryGetInt64(out byteSize) &&
                (!root.TryGetProperty("offset", out var start) || start.TryGetInt64(out offset)))
            {
                key = keyElement.GetString();
                return null;
            }
        }
        catch (JsonException)
        {
        }

        return InferenceError.Invalid("a registration is {\"key\": \"/name\", \"offset\": 0, \"byte_size\": N}");
    }
}
