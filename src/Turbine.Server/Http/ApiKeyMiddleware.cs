using Microsoft.AspNetCore.Http;

namespace Turbine.Server.Http;

/// <summary>
/// Puts <see cref="InferenceAccess"/> in front of every REST model endpoint (<c>/v2/models/{model}/...</c> and
/// <c>/v2/models/stats</c>), the repository index (read-only model metadata, which names every model) and every gRPC
/// model call; health, server metadata and metrics stay open, and the rest of the repository API has its own token. Both run before the request body is read, so a client without a valid key never gets a
/// message of up to the size limit deserialized; a key limited to some models is checked against the model once
/// the message names it.
/// </summary>
internal static class ApiKeyMiddleware
{
    private const string GrpcModelCalls = "/inference.GRPCInferenceService/Model";
    private const string GrpcIndexCall = "/inference.GRPCInferenceService/RepositoryIndex";
    private const string IndexPath = "/v2/repository/index";

    public static Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var access = (InferenceAccess)context.RequestServices.GetService(typeof(InferenceAccess))!;
        if (!access.Enabled)
        {
            return next(context);
        }

        var authorization = context.Request.Headers.Authorization.ToString() is { Length: > 0 } header ? header : null;
        Core.Observation.UsageAccount? account;
        if (context.Request.Path.Value is { } grpcPath && grpcPath.StartsWith(GrpcModelCalls, StringComparison.Ordinal))
        {
            var denied = access.Check(authorization, model: null, out account);
            return denied is { Code: StatusCode.Unauthenticated } ? Grpc.GrpcErrors.WriteTrailersOnlyAsync(context, denied) : BilledAsync(context, next, account);
        }

        if (context.Request.Path.Value is GrpcIndexCall)
        {
            var denied = access.Check(authorization, model: null); // the index names every model
            return denied is null ? next(context) : Grpc.GrpcErrors.WriteTrailersOnlyAsync(context, denied);
        }

        InferenceError? error;
        if (context.Request.Path.Equals(IndexPath, StringComparison.Ordinal))
        {
            error = access.Check(authorization, model: null);
        }
        else if (context.Request.Path.StartsWithSegments("/v2/models", StringComparison.Ordinal, out var rest) && rest.HasValue)
        {
            var path = rest.Value.AsSpan(1);
            var slash = path.IndexOf('/');
            var model = slash < 0 ? path.ToString() : path[..slash].ToString();
            error = access.Check(authorization, model == "stats" && slash < 0 ? null : model, out account);
            if (error is null)
            {
                return BilledAsync(context, next, account);
            }
        }
        else
        {
            return next(context);
        }

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

    /// <summary>Runs the request with its key's account in the async flow, where the usage meter reads it (an async method, so the account ends with the request).</summary>
    private static async Task BilledAsync(HttpContext context, RequestDelegate next, Core.Observation.UsageAccount? account)
    {
        Core.Observation.UsageAccount.Current = account;
        await next(context);
    }
}
