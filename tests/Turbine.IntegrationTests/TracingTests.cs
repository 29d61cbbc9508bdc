using System.Diagnostics;
using System.Net;
using System.Text;
using Grpc.Net.Client;
using OpenTelemetry.Trace;
using Turbine.Protocols.Grpc;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>
/// Tracing on a real server with OpenTelemetry and its in-memory exporter: a request carrying a W3C traceparent, over
/// REST or gRPC, produces Turbine's spans in the caller's trace, each under the right parent.
/// </summary>
public sealed class TracingTests : IAsyncLifetime
{
    private readonly FolderServer _server = new();
    private readonly List<Activity> _spans = [];

    public async Task InitializeAsync()
    {
        _server.Folder
            .Add("batched", SampleModels.AddSub(DataType.Int32, 4), """{ "max_batch_size": 8, "dynamic_batching": { "max_queue_delay_microseconds": 100 } }""")
            .Add("other", SampleModels.AddSub(DataType.Int32, 4), """{ "max_batch_size": 8 }""");
        await _server.StartAsync(
            options => options.Tracing.Enabled = true,
            services: services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(_spans)));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_rest_request_with_a_traceparent_gets_its_spans_in_the_callers_trace()
    {
        var (trace, parent) = (ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom());
        using var request = new HttpRequestMessage(HttpMethod.Post, "v2/models/batched/infer") { Content = AddSubRequests.Content() };
        request.Headers.Add("traceparent", $"00-{trace}-{parent}-01");
        using (var response = await _server.Http.SendAsync(request))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var infer = await SpanAsync("turbine.infer", trace);
        Assert.Equal(parent, infer.ParentSpanId);
        Assert.Equal(ActivityKind.Server, infer.Kind);
        Assert.Equal("batched", infer.GetTagItem("turbine.model"));
        foreach (var name in new[] { "turbine.decode", "turbine.queue", "turbine.execute", "turbine.encode" })
        {
            var span = await SpanAsync(name, trace);
            Assert.True(span.ParentSpanId == infer.SpanId, $"{name} hangs under {span.ParentSpanId}, not under turbine.infer {infer.SpanId}");
        }

        var execute = await SpanAsync("turbine.execute", trace);
        Assert.Equal(("batched", "1", 1L), (execute.GetTagItem("turbine.model"), execute.GetTagItem("turbine.version"), execute.GetTagItem("turbine.batch_rows")));
        var queue = await SpanAsync("turbine.queue", trace);
        Assert.True(queue.StartTimeUtc <= execute.StartTimeUtc && execute.Duration >= TimeSpan.Zero);
    }

    [Fact]
    public async Task A_grpc_request_reads_its_traceparent_from_the_metadata()
    {
        var (trace, parent) = (ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom());
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_server.Server.GrpcPort}");
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        var message = new ModelInferRequest { ModelName = "other" };
        foreach (var (name, value) in new[] { ("INPUT0", 1), ("INPUT1", 2) })
        {
            var input = new ModelInferRequest.Types.InferInputTensor { Name = name, Datatype = "INT32", Contents = new InferTensorContents() };
            input.Shape.AddRange([1, 4]);
            input.Contents.IntContents.AddRange(Enumerable.Repeat(value, 4));
            message.Inputs.Add(input);
        }

        await client.ModelInferAsync(message, new Grpc.Core.Metadata { { "traceparent", $"00-{trace}-{parent}-01" } });

        var infer = await SpanAsync("turbine.infer", trace);
        Assert.Equal(parent, infer.ParentSpanId);
        Assert.Equal("grpc", infer.GetTagItem("rpc.system"));
        Assert.Equal(infer.SpanId, (await SpanAsync("turbine.execute", trace)).ParentSpanId);
    }

    [Fact]
    public async Task A_routed_request_has_a_route_span_between_the_request_and_the_model()
    {
        using (var put = await _server.Http.PutAsync("v2/routes/checkout", new StringContent("""{"variants":[{"model":"batched"}]}""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        var (trace, parent) = (ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom());
        using var request = new HttpRequestMessage(HttpMethod.Post, "v2/models/checkout/infer") { Content = AddSubRequests.Content() };
        request.Headers.Add("traceparent", $"00-{trace}-{parent}-01");
        using (var response = await _server.Http.SendAsync(request))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var infer = await SpanAsync("turbine.infer", trace);
        var route = await SpanAsync("turbine.route", trace);
        Assert.Equal(infer.SpanId, route.ParentSpanId);
        Assert.Equal(("checkout", "batched"), (route.GetTagItem("turbine.route"), route.GetTagItem("turbine.variant")));
        Assert.Equal(route.SpanId, (await SpanAsync("turbine.execute", trace)).ParentSpanId);
    }

    [Fact]
    public async Task A_caller_that_did_not_sample_its_trace_gets_no_spans()
    {
        var (trace, parent) = (ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom());
        using var request = new HttpRequestMessage(HttpMethod.Post, "v2/models/batched/infer") { Content = AddSubRequests.Content() };
        request.Headers.Add("traceparent", $"00-{trace}-{parent}-00");
        using (var response = await _server.Http.SendAsync(request))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // A sampled request sent after it is exported once its spans end; by then the unsampled one's would have been too.
        await A_rest_request_with_a_traceparent_gets_its_spans_in_the_callers_trace();
        lock (_spans)
        {
            Assert.DoesNotContain(_spans, span => span.TraceId == trace);
        }
    }

    /// <summary>The span of that name in that trace, once exported (the request's own span ends after its answer is written).</summary>
    private Task<Activity> SpanAsync(string name, ActivityTraceId trace) => ExportedSpans.FindAsync(_spans, name, trace);
}
