using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Turbine.Server.Hosting;
using Turbine.Server.Http;

namespace Turbine.Server.OpenAi;

/// <summary>Reads a request body of the OpenAI API; null with <paramref name="error"/> naming the field at fault.</summary>
internal delegate T? OpenAiBodyParser<T>(ReadOnlySpan<byte> json, out OpenAiError? error);

/// <summary>
/// The start every <c>/v1</c> POST shares: the API key checked before the body is read, the body read within the
/// request limit and parsed, then the key checked against the model the body names. A refusal is answered here.
/// </summary>
internal static class OpenAiRequest
{
    /// <summary>The parsed body, or null when the request has been answered with why not.</summary>
    public static async Task<T?> ReadAsync<T>(HttpContext context, OpenAiBodyParser<T> parse, Func<T, string> model)
        where T : class
    {
        var services = context.RequestServices;
        var access = services.GetRequiredService<InferenceAccess>();
        var authorization = Authorization(context);
        if (KeyError(access, authorization) is { } refused)
        {
            await refused.WriteAsync(context);
            return null;
        }

        var (body, readError) = await RequestBodyReader.ReadAsync(context.Request, services.GetRequiredService<IOptions<TurbineServerOptions>>().Value.MaxRequestBodyBytes);
        T? request = null;
        var error = readError is null ? null : OpenAiError.From(readError);
        using (body)
        {
            if (body is not null)
            {
                request = parse(body.Span, out error);
            }
        }

        if (request is null)
        {
            await error!.WriteAsync(context);
            return null;
        }

        if (access.Check(authorization, model(request)) is { } denied)
        {
            await OpenAiError.From(denied).WriteAsync(context);
            return null;
        }

        return request;
    }

    public static string? Authorization(HttpContext context) =>
        context.Request.Headers.Authorization.ToString() is { Length: > 0 } header ? header : null;

    /// <summary>A missing or unknown key; a valid key limited to some models passes here and is checked against the model.</summary>
    public static OpenAiError? KeyError(InferenceAccess access, string? authorization) =>
        access.Check(authorization, model: null) is { Code: StatusCode.Unauthenticated } error ? OpenAiError.From(error) : null;
}
