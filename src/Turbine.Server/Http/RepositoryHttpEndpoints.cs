using System.Buffers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Turbine.Core.Lifecycle;
using Turbine.Core.Traffic;
using Turbine.Protocols.KServe;
using Turbine.Server.Hosting;

namespace Turbine.Server.Http;

/// <summary>
/// The control plane over REST, every endpoint behind <see cref="ManagementAccess"/>: Triton's repository extension
/// (index, load with a config override, unload), Turbine's version routing (default version, labels, rollback) and
/// its traffic routes.
/// </summary>
internal static class RepositoryHttpEndpoints
{
    /// <summary>Load requests may carry a whole model configuration; the other bodies are a few bytes.</summary>
    private const int MaxLoadBody = 1024 * 1024;
    private const int MaxSmallBody = 64 * 1024;

    private static readonly Action<IBufferWriter<byte>> EmptyObject = static w => w.Write("{}"u8);

    public static void MapRepository(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v2/repository/index", (HttpContext context, ModelManager models, IOptions<TurbineServerOptions> options) =>
            GuardedAsync(context, MaxSmallBody, body =>
            {
                var error = KServeJson.ReadIndexRequest(body.Span, options.Value.MaxJsonDepth, out var readyOnly);
                return Task.FromResult(error is null ? Reply.Of(w => KServeJson.WriteRepositoryIndex(w, models.Index(readyOnly))) : Reply.Of(error));
            }));

        app.MapPost("/v2/repository/models/{model}/load", (HttpContext context, string model, ModelControl control, IOptions<TurbineServerOptions> options) =>
            GuardedAsync(context, MaxLoadBody, async body =>
            {
                var error = RepositoryJson.ReadLoadRequest(body.Span, options.Value.MaxJsonDepth, out var config)
                    ?? await control.LoadAsync(model, config, context.RequestAborted);
                return error is null ? Reply.Of(EmptyObject) : Reply.Of(error);
            }));

        app.MapPost("/v2/repository/models/{model}/unload", (HttpContext context, string model, ModelControl control) =>
            GuardedAsync(context, MaxSmallBody, async _ =>
            {
                var error = await control.UnloadAsync(model, context.RequestAborted);
                return error is null ? Reply.Of(EmptyObject) : Reply.Of(error);
            }));

        app.MapGet("/v2/repository/models/{model}/versions", (HttpContext context, string model, ModelManager models) =>
            GuardedAsync(context, MaxSmallBody, _ =>
            {
                var error = models.Serving(model, out var view);
                return Task.FromResult(Reply.Of((view, error)));
            }));

        app.MapPut("/v2/repository/models/{model}/default", (HttpContext context, string model, ModelManager models, IOptions<TurbineServerOptions> options) =>
            GuardedAsync(context, MaxSmallBody, async body =>
            {
                var error = RepositoryJson.ReadVersionRequest(body.Span, options.Value.MaxJsonDepth, out var version);
                return error is null ? Reply.Of(await models.SetDefaultVersionAsync(model, version, context.RequestAborted)) : Reply.Of(error);
            }));

        app.MapPut("/v2/repository/models/{model}/labels/{label}", (HttpContext context, string model, string label, ModelManager models, IOptions<TurbineServerOptions> options) =>
            GuardedAsync(context, MaxSmallBody, async body =>
            {
                var error = RepositoryJson.ReadVersionRequest(body.Span, options.Value.MaxJsonDepth, out var version);
                return error is null ? Reply.Of(await models.SetLabelAsync(model, label, version, context.RequestAborted)) : Reply.Of(error);
            }));

        app.MapDelete("/v2/repository/models/{model}/labels/{label}", (HttpContext context, string model, string label, ModelManager models) =>
            GuardedAsync(context, MaxSmallBody, async _ => Reply.Of(await models.SetLabelAsync(model, label, null, context.RequestAborted))));

        app.MapPost("/v2/repository/models/{model}/rollback", (HttpContext context, string model, ModelManager models) =>
            GuardedAsync(context, MaxSmallBody, async _ => Reply.Of(await models.RollbackAsync(model, context.RequestAborted))));

        MapRoutes(app);
    }

    /// <summary>Routes (docs/TRAFFIC.md): list, read, set (validated, saved, then published) and delete.</summary>
    private static void MapRoutes(IEndpointRouteBuilder app)
    {
        app.MapGet("/v2/routes", (HttpContext context, RouteTable routes) =>
            GuardedAsync(context, MaxSmallBody, _ => Task.FromResult(Reply.Of(w => WriteRoutes(w, routes.All)))));

        app.MapGet("/v2/routes/{name}", (HttpContext context, string name, RouteTable routes) =>
            GuardedAsync(context, MaxSmallBody, _ => Task.FromResult(routes.TryGet(name, out var route)
                ? Reply.Of(w => WriteRoute(w, route.Definition))
                : Reply.Of(InferenceError.NotFound($"route '{ClientText.Quote(name)}' is not found")))));

        app.MapPut("/v2/routes/{name}", (HttpContext context, string name, RouteTable routes, ModelManager models, IOptions<TurbineServerOptions> options) =>
            GuardedAsync(context, MaxSmallBody, body =>
            {
                var error = RouteJson.Read(body.Span, name, options.Value.MaxJsonDepth, out var route);
                if (error is null && models.Repository.Contains(name))
                {
                    error = InferenceError.Invalid($"'{name}' is a model in the repository; a route needs a name of its own");
                }

                if (error is null && route!.Variants.FirstOrDefault(v => !models.Repository.Contains(v.Model)) is { } missing)
                {
                    error = InferenceError.Invalid($"variant model '{missing.Model}' is not in the repository");
                }

                if (error is null && route!.Resilience?.Fallbacks.FirstOrDefault(f => !models.Repository.Contains(f.Model)) is { } absent)
                {
                    error = InferenceError.Invalid($"fallback model '{absent.Model}' is not in the repository");
                }

                if (error is null && route!.Shadow is { } shadow && !models.Repository.Contains(shadow.Model))
                {
                    error = InferenceError.Invalid($"shadow model '{shadow.Model}' is not in the repository");
                }

                if (error is null)
                {
                    routes.Set(route!);
                }

                return Task.FromResult(error is null ? Reply.Of(w => WriteRoute(w, route!)) : Reply.Of(error));
            }));

        // Feedback comes from applications, not operators: it sits with the model endpoints (API keys apply), not the control plane.
        app.MapPost("/v2/models/{name}/feedback", (HttpContext context, string name, RouteTable routes, IOptions<TurbineServerOptions> options) =>
            GuardedAsync(context, MaxSmallBody, controlPlane: false, body => Task.FromResult(!routes.TryGet(name, out var route)
                ? Reply.Of(InferenceError.NotFound($"route '{ClientText.Quote(name)}' is not found"))
                : RouteReport.RecordFeedback(route, body.Span, options.Value.MaxJsonDepth) is { } error ? Reply.Of(error) : Reply.Of(EmptyObject))));

        app.MapGet("/v2/routes/{name}/report", (HttpContext context, string name, RouteTable routes) =>
            GuardedAsync(context, MaxSmallBody, _ => Task.FromResult(routes.TryGet(name, out var route)
                ? Reply.Of(w =>
                {
                    using var writer = new System.Text.Json.Utf8JsonWriter(w, KServeJson.WriterOptions);
                    RouteReport.Write(writer, route);
                })
                : Reply.Of(InferenceError.NotFound($"route '{ClientText.Quote(name)}' is not found")))));

        app.MapDelete("/v2/routes/{name}", (HttpContext context, string name, RouteTable routes) =>
            GuardedAsync(context, MaxSmallBody, _ => Task.FromResult(routes.Remove(name)
                ? Reply.Of(EmptyObject)
                : Reply.Of(InferenceError.NotFound($"route '{ClientText.Quote(name)}' is not found")))));
    }

    private static void WriteRoute(IBufferWriter<byte> output, RouteDefinition route)
    {
        using var writer = new System.Text.Json.Utf8JsonWriter(output, KServeJson.WriterOptions);
        RouteJson.Write(writer, route);
    }

    private static void WriteRoutes(IBufferWriter<byte> output, IReadOnlyList<RouteDefinition> routes)
    {
        using var writer = new System.Text.Json.Utf8JsonWriter(output, KServeJson.WriterOptions);
        writer.WriteStartArray();
        foreach (var route in routes)
        {
            RouteJson.Write(writer, route);
        }

        writer.WriteEndArray();
    }

    /// <summary>
    /// Checks control-plane access (unless <c>controlPlane</c> is false) and the Content-Type, reads the body (bounded),
    /// runs the action and writes its reply.
    /// </summary>
    private static Task GuardedAsync(HttpContext context, int maxBody, Func<ReadOnlyMemory<byte>, Task<Reply>> action) =>
        GuardedAsync(context, maxBody, controlPlane: true, action);

    private static async Task GuardedAsync(HttpContext context, int maxBody, bool controlPlane, Func<ReadOnlyMemory<byte>, Task<Reply>> action)
    {
        var denied = controlPlane ? context.RequestServices.GetRequiredService<ManagementAccess>().Check(context) : null;
        if (denied is not null)
        {
            await HttpResults.WriteErrorAsync(context, denied);
            return;
        }

        if (context.Request.ContentType is { Length: > 0 } contentType && !contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            await HttpResults.WriteErrorAsync(context, StatusCodes.Status415UnsupportedMediaType, "the repository API accepts only application/json bodies");
            return;
        }

        var (body, readError) = await RequestBodyReader.ReadAsync(context.Request, maxBody);
        if (readError is not null)
        {
            await HttpResults.WriteErrorAsync(context, readError);
            return;
        }

        Reply reply;
        using (body)
        {
            reply = await action(body!.Span.ToArray());
        }

        await (reply.Error is not null ? HttpResults.WriteErrorAsync(context, reply.Error) : HttpResults.WriteJsonAsync(context, reply.Body!));
    }

    /// <summary>What an endpoint answers: an error, or a JSON body.</summary>
    private readonly record struct Reply(InferenceError? Error, Action<IBufferWriter<byte>>? Body)
    {
        public static Reply Of(InferenceError error) => new(error, null);

        public static Reply Of(Action<IBufferWriter<byte>> body) => new(null, body);

        public static Reply Of((ServingView? View, InferenceError? Error) result) =>
            result.Error is not null ? Of(result.Error) : Of(w => RepositoryJson.WriteServingView(w, result.View!));
    }
}
