using System.Diagnostics;
using System.Net;
using OpenTelemetry.Trace;
using Turbine.Onnx.Tools.Samples;

namespace Turbine.IntegrationTests;

/// <summary>A chat completion traced with OpenTelemetry's in-memory exporter carries the GenAI semantic conventions' attributes.</summary>
public sealed class GenAiTracingTests : IAsyncLifetime
{
    private readonly FolderServer _server = new();
    private readonly List<Activity> _spans = [];

    public async Task InitializeAsync()
    {
        GenerativeModelFolder.Write(Path.Combine(_server.Folder.Root, "gpt", "1"), new DecoderShape(Context: 128));
        await _server.StartAsync(
            options => options.Tracing.Enabled = true,
            services: services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(_spans)));
    }

    public Task DisposeAsync() => _server.DisposeAsync().AsTask();

    [Fact]
    public async Task A_chat_completion_span_has_the_genai_attributes_in_the_callers_trace()
    {
        var (trace, parent) = (ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom());
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = new StringContent("""{"model":"gpt","messages":[{"role":"user","content":"hi"}],"max_tokens":5,"temperature":0.5,"top_p":0.9,"seed":3,"n":2}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("traceparent", $"00-{trace}-{parent}-01");
        using var response = await _server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var span = await SpanAsync("chat gpt", trace);
        Assert.Equal(parent, span.ParentSpanId);
        Assert.Equal("chat", span.GetTagItem("gen_ai.operation.name"));
        Assert.Equal("gpt", span.GetTagItem("gen_ai.request.model"));
        Assert.Equal(5, span.GetTagItem("gen_ai.request.max_tokens"));
        Assert.Equal(0.5, (double)span.GetTagItem("gen_ai.request.temperature")!, 6);
        Assert.Equal(2, span.GetTagItem("gen_ai.request.choice.count"));
        Assert.StartsWith("chatcmpl-", (string)span.GetTagItem("gen_ai.response.id")!, StringComparison.Ordinal);
        Assert.Equal(2, ((string[])span.GetTagItem("gen_ai.response.finish_reasons")!).Length);
        Assert.True((int)span.GetTagItem("gen_ai.usage.input_tokens")! > 0);
        Assert.InRange((int)span.GetTagItem("gen_ai.usage.output_tokens")!, 2, 10);
    }

    private Task<Activity> SpanAsync(string name, ActivityTraceId trace) => ExportedSpans.FindAsync(_spans, name, trace);
}
