using System.Buffers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Turbine.Traffic;
using Turbine.Protocols.KServe;
using Turbine.Server.Hosting;

namespace Turbine.Server.Http;

/// <summary>The traffic part of the control plane: routes, their A/B reports and feedback, and canary rollouts.</summary>
internal static partial class RepositoryHttpEndpoints
{
    /// <summary>Routes (docs/TRAFFIC.md): list, read, set (validated, saved, then published) and delete.</summary>
    private static void MapRoutes(IEndpointRouteBuilder app)
    {
        app.MapGet("/v2/routes", (HttpContext context, RouteTable routes) =>
            GuardedAsync(context, MaxSmallBody, _ => Task.FromResult(Reply.Of(w => WriteRoutes(w, routes.All)))));

        app.MapGet("/v2/routes/{name}", (HttpContext context, string name, RouteTable routes) =>
            GuardedAsync(context, MaxSmallBody, _ => Task.FromResult(routes.TryGet(name, out var route)
                ? Reply.Of(w => WriteRoute(w, route.Definition))
                : Reply.Of(InferenceError.NotFound($"route '{ClientText.Quote(name)}' is not found")))));

        app.MapPut("/v2/routes/{name}", (HttpContext context, string name, RouteTable routes, TrafficValidator validator, IOptions<TurbineServerOptions> options) =>
            GuardedAsync(context, MaxSmallBody, body =>
            {
                var error = RouteJson.Read(body.Span, name, options.Value.MaxJsonDepth, out var route) ?? validator.Check(route!);
                if (error is null)
                {
                    routes.Set(route!);
                }

                return Task.FromResult(error is null ? Reply.Of(w => WriteRoute(w, route!)) : Reply.Of(error));
            }));

        app.MapGet("/v2/routes/{name}/report", (HttpContext context, string name, RouteTable routes) =>
            GuardedAsync(context, MaxSmallBody, _ => Task.FromResult(routes.TryGet(name, out var route)
                ? Reply.Of(w =>
                {
                    using var writer = new System.Text.Json.Utf8JsonWriter(w, KServeJson.WriterOptions);
                    RouteReport.Write(writer, route);
                })
                : Reply.Of(InferenceError.NotFound($"route '{ClientText.Quote(name)}' is not found")))));

        app.MapGet("/v2/routes/{name}/canary", (HttpContext context, string name, RouteTable routes) =>
            GuardedAsync(context, MaxSmallBody, _ => Task.FromResult(FindRollout(routes, name, out var rollout) is { } error
                ? Reply.Of(error)
                : Reply.Of(w => WriteRollout(w, rollout!)))));

        app.MapPost("/v2/routes/{name}/canary/{action}", (HttpContext context, string name, string action, RouteTable routes, IOptions<TurbineServerOptions> options) =>
            GuardedAsync(context, MaxSmallBody, body => Task.FromResult(
                (FindRollout(routes, name, out var rollout)
                 ?? RouteJson.ReadReason(body.Span, options.Value.MaxJsonDepth, out var reason)
                 ?? rollout!.Control(action, reason)) is { } error
                    ? Reply.Of(error)
                    : Reply.Of(w => WriteRollout(w, rollout!)))));

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

    private static InferenceError? FindRollout(RouteTable routes, string name, out Traffic.Canary.CanaryRollout? rollout)
    {
        rollout = null;
        if (!routes.TryGet(name, out var route))
        {
            return InferenceError.NotFound($"route '{ClientText.Quote(name)}' is not found");
        }

        rollout = route.Canary;
        return rollout is null ? InferenceError.NotFound($"route '{name}' has no canary rollout") : null;
    }

    private static void WriteRollout(IBufferWriter<byte> output, Traffic.Canary.CanaryRollout rollout)
    {
        using var writer = new System.Text.Json.Utf8JsonWriter(output, KServeJson.WriterOptions);
        Traffic.Canary.CanaryJson.WriteStatus(writer, rollout);
    }
}
