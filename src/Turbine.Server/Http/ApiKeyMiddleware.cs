using Microsoft.AspNetCore.Http;

namespace Turbine.Server.Http;

/// <summary>
/// Puts <see cref="InferenceAccess"/> in front of every REST model endpoint (<c>/v2/models/{model}/...</c> and
/// <c>/v2/models/stats</c>); health, server metadata and metrics stay open, the repository API has its own token.
/// </summary>
internal static class ApiKeyMiddleware
{
    public static Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var access = (InferenceAccess)context.RequestServices.GetService(typeof(InferenceAccess))!;
        if (!access.Enabled || !context.Request.Path.StartsWithSegments("/v2/models", StringComparison.Ordinal, out var rest) || !rest.HasValue)
        {
            return next(context);
        }

        var path = rest.Value.AsSpan(1);
        var slash = path.IndexOf('/');
        var model = slash < 0 ? path.ToString() : path[..slash].ToString();
        var error = access.Check(context.Request.Headers.Authorization.ToString() is { Length: > 0 } header ? header : null, model == "stats" && slash < 0 ? null : model);
        if (error is null)
        {
            return next(context);
        }

        if (error.Code == StatusCode.Unauthenticated)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
        }

        return HttpResults.WriteErrorAsync(context, error);
    }
}
