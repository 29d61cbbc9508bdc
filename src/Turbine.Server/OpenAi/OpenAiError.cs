using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Turbine.Server.OpenAi;

/// <summary>
/// An error as the OpenAI API answers one: <c>{"error": {"message", "type", "param", "code"}}</c> with the status the
/// official SDKs turn into their typed exceptions (400 BadRequest, 401 Authentication, 403 PermissionDenied,
/// 404 NotFound, 429 RateLimit, 500 InternalServer, 503).
/// </summary>
/// <param name="Status">The HTTP status.</param>
/// <param name="Message">What went wrong, for a person.</param>
/// <param name="Type">invalid_request_error, authentication_error, permission_error, not_found_error, rate_limit_error or server_error.</param>
/// <param name="Param">The request field at fault, if one is.</param>
/// <param name="Code">A machine-readable code, if one applies (model_not_found, invalid_api_key, context_length_exceeded).</param>
internal sealed record OpenAiError(int Status, string Message, string Type, string? Param = null, string? Code = null)
{
    public static OpenAiError Invalid(string message, string? param = null, string? code = null) =>
        new(StatusCodes.Status400BadRequest, message, "invalid_request_error", param, code);

    public static OpenAiError ModelNotFound(string model) =>
        new(StatusCodes.Status404NotFound, $"The model '{ClientText.Quote(model)}' does not exist or is not a generative model served here", "invalid_request_error", "model", "model_not_found");

    /// <summary>The OpenAI form of an error of Turbine's own vocabulary.</summary>
    public static OpenAiError From(InferenceError error, string? param = null) => error.Code switch
    {
        StatusCode.InvalidArgument => Invalid(error.Message, param),
        StatusCode.NotFound => new(StatusCodes.Status404NotFound, error.Message, "invalid_request_error", param, "model_not_found"),
        StatusCode.Unauthenticated => new(StatusCodes.Status401Unauthorized, error.Message, "invalid_request_error", null, "invalid_api_key"),
        StatusCode.PermissionDenied => new(StatusCodes.Status403Forbidden, error.Message, "permission_error"),
        StatusCode.ResourceExhausted => new(StatusCodes.Status429TooManyRequests, error.Message, "rate_limit_error"),
        StatusCode.Unavailable or StatusCode.Cancelled => new(StatusCodes.Status503ServiceUnavailable, error.Message, "server_error"),
        StatusCode.DeadlineExceeded => new(StatusCodes.Status504GatewayTimeout, error.Message, "server_error"),
        _ => new(StatusCodes.Status500InternalServerError, error.Message, "server_error"),
    };

    /// <summary>Writes the error object's members (the caller has opened the enclosing object).</summary>
    public void WriteMember(Utf8JsonWriter writer)
    {
        writer.WriteStartObject("error"u8);
        writer.WriteString("message"u8, Message);
        writer.WriteString("type"u8, Type);
        WriteNullable(writer, "param"u8, Param);
        WriteNullable(writer, "code"u8, Code);
        writer.WriteEndObject();
    }

    /// <summary>Answers the request with this error.</summary>
    public async Task WriteAsync(HttpContext context)
    {
        context.Response.StatusCode = Status;
        if (Status is StatusCodes.Status429TooManyRequests or StatusCodes.Status503ServiceUnavailable)
        {
            context.Response.Headers.RetryAfter = "1";
        }

        if (Status == StatusCodes.Status401Unauthorized)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
        }

        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.Body);
        writer.WriteStartObject();
        WriteMember(writer);
        writer.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter writer, ReadOnlySpan<byte> name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }
}
