using System.Buffers;
using Microsoft.AspNetCore.Http;
using Turbine.Protocols.KServe;

namespace Turbine.Server.Http;

/// <summary>Writes KServe REST responses: JSON bodies, and errors mapped from <see cref="StatusCode"/> exactly once.</summary>
internal static class HttpResults
{
    public static int ToHttpStatus(StatusCode code) => KServeHttpStatus.Of(code);

    public static Task WriteErrorAsync(HttpContext context, InferenceError error) =>
        WriteErrorAsync(context, ToHttpStatus(error.Code), error.Message);

    public static Task WriteErrorAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        if (status is StatusCodes.Status429TooManyRequests or StatusCodes.Status503ServiceUnavailable)
        {
            context.Response.Headers.RetryAfter = "1";
        }

        return WriteJsonAsync(context, writer => KServeJson.WriteError(writer, message), status);
    }

    public static async Task WriteJsonAsync(HttpContext context, Action<IBufferWriter<byte>> write, int status = StatusCodes.Status200OK)
    {
        using var buffer = new PooledBufferWriter();
        write(buffer);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = buffer.WrittenMemory.Length;
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
    }
}
