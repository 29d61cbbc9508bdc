using Microsoft.AspNetCore.Http;

namespace Turbine.Server.Http;

/// <summary>Puts <see cref="RestrictedApis"/> in front of every endpoint, before API keys and before any body is read.</summary>
internal static class RestrictedApiMiddleware
{
    public static Task InvokeAsync(HttpContext context, RequestDelegate next, RestrictedApis restrictions)
    {
        if (restrictions.Check(context) is not { } denied)
        {
            return next(context);
        }

        return context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true
            ? Grpc.GrpcErrors.WriteTrailersOnlyAsync(context, denied)
            : HttpResults.WriteErrorAsync(context, denied);
    }
}
