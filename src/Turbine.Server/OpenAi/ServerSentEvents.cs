using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Turbine.Server.Http;

namespace Turbine.Server.OpenAi;

/// <summary>
/// Writes a server-sent-events stream as the OpenAI API frames it: <c>data: {json}</c> and a blank line per event,
/// flushed at once so each token reaches the client as it is made, and <c>data: [DONE]</c> at the end. The headers go
/// out with the first event.
/// </summary>
internal sealed class ServerSentEvents(HttpResponse response)
{
    private static readonly byte[] Prefix = "data: "u8.ToArray();
    private static readonly byte[] Separator = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    /// <summary>Whether the headers (and so the status) have gone out.</summary>
    public bool Started { get; private set; }

    public async Task WriteAsync(Action<Utf8JsonWriter> write)
    {
        await StartAsync();
        using var buffer = new PooledBufferWriter();
        buffer.Write(Prefix);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        buffer.Write(Separator);
        await response.Body.WriteAsync(buffer.WrittenMemory, response.HttpContext.RequestAborted);
        await response.Body.FlushAsync(response.HttpContext.RequestAborted);
    }

    public async Task DoneAsync()
    {
        await StartAsync();
        await response.Body.WriteAsync(Done, response.HttpContext.RequestAborted);
        await response.Body.FlushAsync(response.HttpContext.RequestAborted);
    }

    private async Task StartAsync()
    {
        if (Started)
        {
            return;
        }

        Started = true;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no"; // proxies that buffer (nginx) pass each event on at once
        await response.StartAsync(response.HttpContext.RequestAborted);
    }
}
