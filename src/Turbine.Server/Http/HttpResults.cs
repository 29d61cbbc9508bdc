using System.Buffers;
using Microsoft.AspNetCore.Http;
using Turbine.Protocols.KServe;

namespace Turbine.Server.Http;

/// <summary>Writes KServe REST responses: JSON bodies, and errors mapped from <see cref="StatusCode"/> exactly once.</summary>
internal static class HttpResults
{
    public static int ToHttpStatus(StatusCode code) => code switch
    {
        StatusCode.Ok => StatusCodes.Status200OK,
        StatusCode.InvalidArgument => StatusCodes.Status400BadRequest,
        StatusCode.NotFound => StatusCodes.Status404NotFound,
        StatusCode.Unavailable => StatusCodes.Status503ServiceUnavailable,
        StatusCode.ResourceExhausted => StatusCodes.Status429TooManyRequests,
        StatusCode.DeadlineExceeded => StatusCodes.Status504GatewayTimeout,
        StatusCode.Cancelled => StatusCodes.Status503ServiceUnavailable,
        StatusCode.Unauthenticated => StatusCodes.Status401Unauthorized,
        StatusCode.PermissionDenied => StatusCodes.Status403Forbidden,
        StatusCode.FailedPrecondition => StatusCodes.Status409Conflict,
        _ => StatusCodes.Status500InternalServerError,
    };

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
