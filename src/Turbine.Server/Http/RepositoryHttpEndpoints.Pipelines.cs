using System.Buffers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Turbine.Traffic.Pipelines;
using Turbine.Protocols.KServe;
using Turbine.Server.Hosting;

namespace Turbine.Server.Http;

/// <summary>Pipelines on the control plane: list, read, set (validated, saved, then published), delete, and their statistics.</summary>
internal static partial class RepositoryHttpEndpoints
{
    private static void MapPipelines(IEndpointRouteBuilder app)
    {
        app.MapGet("/v2/pipelines", (HttpContext context, PipelineTable pipelines) =>
            GuardedAsync(context, MaxSmallBody, _ => Task.FromResult(Reply.Of(w => WritePipelines(w, pipelines.All)))));

        app.MapGet("/v2/pipelines/{name}", (HttpContext context, string name, PipelineTable pipelines) =>
            GuardedAsync(context, MaxSmallBody, _ => Task.FromResult(pipelines.TryGet(name, out var pipeline)
                ? Reply.Of(w => WritePipelines(w, [pipeline], single: true))
                : Reply.Of(PipelineNotFound(name)))));

        app.MapPut("/v2/pipelines/{name}", (HttpContext context, string name, PipelineTable pipelines, TrafficValidator validator, IOptions<TurbineServerOptions> options) =>
            GuardedAsync(context, MaxDefinitionBody, body =>
            {
                var error = PipelineJson.Read(body.Span, name, options.Value.MaxJsonDepth, out var pipeline) ?? validator.Check(pipeline!);
                if (error is null)
                {
                    pipelines.Set(pipeline!);
                }

                return Task.FromResult(error is null ? Reply.Of(w => WritePipeline(w, pipeline!)) : Reply.Of(error));
            }));

        app.MapGet("/v2/pipelines/{name}/stats", (HttpContext context, string name, PipelineTable pipelines) =>
            GuardedAsync(context, MaxSmallBody, _ => Task.FromResult(pipelines.TryGet(name, out var pipeline)
                ? Reply.Of(w =>
                {
                    using var writer = new System.Text.Json.Utf8JsonWriter(w, KServeJson.WriterOptions);
                    PipelineReport.Write(writer, pipeline);
                })
                : Reply.Of(PipelineNotFound(name)))));

        app.MapDelete("/v2/pipelines/{name}", (HttpContext context, string name, PipelineTable pipelines) =>
            GuardedAsync(context, MaxSmallBody, _ => Task.FromResult(pipelines.Remove(name) ? Reply.Of(EmptyObject) : Reply.Of(PipelineNotFound(name)))));
    }

    private static InferenceError PipelineNotFound(string name) => InferenceError.NotFound($"pipeline '{ClientText.Quote(name)}' is not found");

    private static void WritePipeline(IBufferWriter<byte> output, PipelineDefinition pipeline)
    {
        using var writer = new System.Text.Json.Utf8JsonWriter(output, KServeJson.WriterOptions);
        PipelineJson.Write(writer, pipeline);
    }

    private static void WritePipelines(IBufferWriter<byte> output, IReadOnlyList<CompiledPipeline> pipelines, bool single = false)
    {
        using var writer = new System.Text.Json.Utf8JsonWriter(output, KServeJson.WriterOptions);
        if (!single)
        {
            writer.WriteStartArray();
        }

        foreach (var pipeline in pipelines)
        {
            PipelineJson.Write(writer, pipeline.Definition);
        }

        if (!single)
        {
            writer.WriteEndArray();
        }
    }
}
