using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Turbine.Core.Observation;

namespace Turbine.Server.OpenAi;

/// <summary>
/// The span of a generation, with the attributes of OpenTelemetry's GenAI semantic conventions
/// (<c>gen_ai.operation.name</c>, <c>gen_ai.request.*</c>, <c>gen_ai.response.*</c>, <c>gen_ai.usage.*</c>), named
/// "{operation} {model}" and made a child of the caller's <c>traceparent</c>, when tracing is on.
/// </summary>
internal static class GenAiTracing
{
    public static Activity? Start(HttpContext context, string operation, GenerationBody request)
    {
        if (!TurbineTracing.IsEnabled)
        {
            return null;
        }

        var headers = context.Request.Headers;
        if (!ActivityContext.TryParse(headers.TraceParent, headers.TraceState, isRemote: true, out var parent))
        {
            parent = Activity.Current?.Context ?? default;
        }

        var span = TurbineTracing.Source.StartActivity($"{operation} {request.Model}", ActivityKind.Server, parent);
        if (span is null)
        {
            return null;
        }

        span.SetTag("gen_ai.operation.name", operation);
        span.SetTag("gen_ai.provider.name", "turbine");
        span.SetTag("gen_ai.request.model", request.Model);
        span.SetTag("gen_ai.request.temperature", (double)request.Sampling.Temperature);
        span.SetTag("gen_ai.request.top_p", (double)request.Sampling.TopP);
        if (request.MaxTokens is { } maxTokens)
        {
            span.SetTag("gen_ai.request.max_tokens", maxTokens);
        }

        if (request.Sampling.TopK > 0)
        {
            span.SetTag("gen_ai.request.top_k", (double)request.Sampling.TopK);
        }

        if (request.Sampling.Seed is { } seed)
        {
            span.SetTag("gen_ai.request.seed", seed);
        }

        if (request.N != 1)
        {
            span.SetTag("gen_ai.request.choice.count", request.N);
        }

        if (request.Stop.Count > 0)
        {
            span.SetTag("gen_ai.request.stop_sequences", request.Stop.ToArray());
        }

        return span;
    }

    public static void Finish(Activity? span, string id, ChoiceTally tally)
    {
        if (span is null)
        {
            return;
        }

        span.SetTag("gen_ai.response.id", id);
        span.SetTag("gen_ai.response.model", span.GetTagItem("gen_ai.request.model"));
        span.SetTag("gen_ai.response.finish_reasons", tally.Finishes.Select(f => f ?? "abort").ToArray());
        span.SetTag("gen_ai.usage.input_tokens", tally.PromptTokens);
        span.SetTag("gen_ai.usage.output_tokens", tally.CompletionTokens);
        if (!tally.Succeeded)
        {
            span.SetStatus(ActivityStatusCode.Error);
        }
    }
}
