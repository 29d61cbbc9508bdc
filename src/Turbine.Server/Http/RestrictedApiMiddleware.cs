using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Turbine.Server.Http;

/// <summary>Puts <see cref="RestrictedApis"/> in front of every endpoint, before API keys and before any body is read.</summary>
internal static class RestrictedApiMiddleware
{
    public static Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (context.RequestServices.GetRequiredService<RestrictedApis>().Check(context) is not { } denied)
        {
            return next(context);
        }

        return context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true
            ? Grpc.GrpcErrors.WriteTrailersOnlyAsync(context, denied)
            : HttpResults.WriteErrorAsync(context, denied);
    }
}
