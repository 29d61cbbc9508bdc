using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Turbine.Core.Execution;
using Turbine.Core.Lifecycle;
using Turbine.Protocols.KServe;
using Turbine.Server.Hosting;
using Turbine.Traffic;

namespace Turbine.Server.Http;

/// <summary>Maps the KServe v2 REST API and Triton's HTTP extensions.</summary>
internal static class KServeHttpEndpoints
{
    private static readonly string[] AlwaysOn = ["classification", "model_repository", "model_configuration", "statistics", "binary_tensor_data", "logging", "trace"];

    /// <summary>The extensions <c>/v2</c> and gRPC's ServerMetadata advertise: the ones always served, and shared memory when it is on.</summary>
    public static string[] ExtensionsOf(TurbineServerOptions options) =>
        options.SharedMemory.Enabled ? [.. AlwaysOn, "system_shared_memory"] : AlwaysOn;

    public static void MapKServe(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v2/health/live", (HttpContext context) =>
            HttpResults.WriteJsonAsync(context, w => WriteBool(w, "live", true)));
        app.MapGet("/v2/health/ready", (HttpContext context, ServerReadiness readiness) =>
        {
            var ready = readiness.IsReady;
            return HttpResults.WriteJsonAsync(context, w => WriteBool(w, "ready", ready), ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
        app.MapGet("/v2", (HttpContext context, IOptions<TurbineServerOptions> options) =>
            HttpResults.WriteJsonAsync(context, w => KServeJson.WriteServerMetadata(w, "turbine", ServerVersion.Value, ExtensionsOf(options.Value))));

        MapModelRoutes(app, "/v2/models/{model}");
        MapModelRoutes(app, "/v2/models/{model}/versions/{version}");

        app.MapGet("/v2/models/stats", (HttpContext context, InferenceService inference) => StatisticsAsync(context, inference, null, null));

        app.MapRepository();
    }

    private static void MapModelRoutes(IEndpointRouteBuilder app, string prefix)
    {
        app.MapGet(prefix, (HttpContext context, string model, string? version, InferenceService inference) =>
            WithModelAsync(context, inference, model, version, info => w => KServeJson.WriteModelMetadata(w, info)));
        app.MapGet(prefix + "/config", (HttpContext context, string model, string? version, InferenceService inference) =>
            WithModelAsync(context, inference, model, version, info => w => KServeJson.WriteModelConfig(w, info.Config)));
        app.MapGet(prefix + "/ready", ModelReadyAsync);
        app.MapGet(prefix + "/stats", (HttpContext context, string model, string? version, InferenceService inference) =>
            StatisticsAsync(context, inference, model, version));
        app.MapPost(prefix + "/infer", (HttpContext context, string model, string? version, InferHandler handler) =>
            handler.HandleAsync(context, model, version));
    }

    private static Task WithModelAsync(HttpContext context, InferenceService inference, string model, string? version, Func<ModelVersionInfo, Action<System.Buffers.IBufferWriter<byte>>> body)
    {
        var error = inference.TryGetModel(model, version, out var info);
        return error is null ? HttpResults.WriteJsonAsync(context, body(info!)) : HttpResults.WriteErrorAsync(context, error);
    }

    private static Task ModelReadyAsync(HttpContext context, string model, string? version, InferenceService inference)
    {
        var error = inference.TryGetModel(model, version, out _);
        if (error is { Code: StatusCode.NotFound })
        {
            return HttpResults.WriteErrorAsync(context, error);
        }

        var ready = error is null;
        return HttpResults.WriteJsonAsync(context, w =>
        {
            using var writer = new System.Text.Json.Utf8JsonWriter(w, KServeJson.WriterOptions);
            writer.WriteStartObject();
            writer.WriteString("name", model);
            writer.WriteBoolean("ready", ready);
            writer.WriteEndObject();
        }, ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }

    private static Task StatisticsAsync(HttpContext context, InferenceService inference, string? model, string? version)
    {
        var error = inference.Statistics(model, version, out var stats);
        return error is null ? HttpResults.WriteJsonAsync(context, w => KServeJson.WriteStatistics(w, stats)) : HttpResults.WriteErrorAsync(context, error);
    }

    private static void WriteBool(System.Buffers.IBufferWriter<byte> output, string name, bool value)
    {
        using var writer = new System.Text.Json.Utf8JsonWriter(output, KServeJson.WriterOptions);
        writer.WriteStartObject();
        writer.WriteBoolean(name, value);
        writer.WriteEndObject();
    }
}
