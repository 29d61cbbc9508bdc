using Microsoft.AspNetCore.Http;

namespace Turbine.Server.Http;

/// <summary>
/// Puts <see cref="InferenceAccess"/> in front of every REST model endpoint (<c>/v2/models/{model}/...</c> and
/// <c>/v2/models/stats</c>) and every gRPC model call; health, server metadata and metrics stay open, the repository
/// API has its own token. Both run before the request body is read, so a client without a valid key never gets a
/// message of up to the size limit deserialized; a key limited to some models is checked against the model once
/// the message names it.
/// </summary>
internal static class ApiKeyMiddleware
{
    private const string GrpcModelCalls = "/inference.GRPCInferenceService/Model";

    public static Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var access = (InferenceAccess)context.RequestServices.GetService(typeof(InferenceAccess))!;
        if (!access.Enabled)
        {
            return next(context);
        }

        if (context.Request.Path.Value is { } grpcPath && grpcPath.StartsWith(GrpcModelCalls, StringComparison.Ordinal))
        {
            var denied = access.Check(context.Request.Headers.Authorization.ToString() is { Length: > 0 } value ? value : null, model: null);
            return denied is { Code: StatusCode.Unauthenticated } ? Grpc.GrpcErrors.WriteTrailersOnlyAsync(context, denied) : next(context);
        }

        if (!context.Request.Path.StartsWithSegments("/v2/models", StringComparison.Ordinal, out var rest) || !rest.HasValue)
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
