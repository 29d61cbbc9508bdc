using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Trace;
using Turbine.Onnx.Tools;
using Turbine.Protocols.Grpc;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>Triton's logging extension (<c>/v2/logging</c>, gRPC <c>LogSettings</c>) over the server's own logging.</summary>
public sealed class LoggingSettingsTests : IAsyncLifetime
{
    private readonly FolderServer _server = new();

    public async Task InitializeAsync()
    {
        _server.Folder.Add("simple", SampleModels.AddSub(DataType.Int32, 4));
        await _server.StartAsync();
    }

    public Task DisposeAsync() => _server.DisposeAsync().AsTask();

    [Fact]
    public async Task Log_levels_change_at_run_time_and_reach_the_loggers()
    {
        var logger = _server.Server.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Turbine.Test");
        using var initial = await JsonAsync(HttpMethod.Get, "v2/logging", null, HttpStatusCode.OK);
        Assert.Equal("", initial.RootElement.GetProperty("log_file").GetString());
        Assert.Equal("default", initial.RootElement.GetProperty("log_format").GetString());
        Assert.False(logger.IsEnabled(LogLevel.Debug)); // the tests' servers log warnings and up

        using var verbose = await JsonAsync(HttpMethod.Post, "v2/logging", """{"log_info": true, "log_verbose_level": 1, "log_format": "ISO8601"}""", HttpStatusCode.OK);
        Assert.Equal(1, verbose.RootElement.GetProperty("log_verbose_level").GetInt32());
        Assert.Equal("ISO8601", verbose.RootElement.GetProperty("log_format").GetString());
        Assert.True(logger.IsEnabled(LogLevel.Debug));

        using var quiet = await JsonAsync(HttpMethod.Post, "v2/logging", """{"log_verbose_level": 0, "log_info": false}""", HttpStatusCode.OK);
        Assert.False(quiet.RootElement.GetProperty("log_info").GetBoolean());
        Assert.True(quiet.RootElement.GetProperty("log_warning").GetBoolean());
        Assert.False(logger.IsEnabled(LogLevel.Information));
        Assert.True(logger.IsEnabled(LogLevel.Warning));
    }

    [Theory]
    [InlineData("""{"log_file": "/tmp/turbine.log"}""", "log_file cannot be set")]
    [InlineData("""{"log_info": true, "log_warning": false}""", "needs every higher one on too")]
    [InlineData("""{"log_format": "xml"}""", "log_format must be 'default' or 'ISO8601'")]
    [InlineData("""{"log_info": "yes"}""", "must be a boolean")]
    [InlineData("""{"log_colour": true}""", "unknown logging setting 'log_colour'")]
    public async Task Settings_it_cannot_honour_are_refused_and_change_nothing(string body, string expected)
    {
        using var before = await JsonAsync(HttpMethod.Get, "v2/logging", null, HttpStatusCode.OK);

        using var error = await JsonAsync(HttpMethod.Post, "v2/logging", body, HttpStatusCode.BadRequest);

        Assert.Contains(expected, error.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        using var after = await JsonAsync(HttpMethod.Get, "v2/logging", null, HttpStatusCode.OK);
        Assert.Equal(before.RootElement.GetRawText(), after.RootElement.GetRawText());
    }

    [Fact]
    public async Task Grpc_log_settings_read_and_change_the_same_settings()
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_server.Server.GrpcPort}");
        var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        var change = new LogSettingsRequest();
        change.Settings["log_verbose_level"] = new LogSettingsRequest.Types.SettingValue { Uint32Param = 2 };
        change.Settings["log_info"] = new LogSettingsRequest.Types.SettingValue { BoolParam = true };

        var changed = await grpc.LogSettingsAsync(change);
        var read = await grpc.LogSettingsAsync(new LogSettingsRequest());

        Assert.Equal(2u, changed.Settings["log_verbose_level"].Uint32Param);
        Assert.Equal(2u, read.Settings["log_verbose_level"].Uint32Param);
        Assert.True(_server.Server.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Turbine.Test").IsEnabled(LogLevel.Trace));
    }

    private Task<JsonDocument> JsonAsync(HttpMethod method, string path, string? body, HttpStatusCode expected) =>
        SettingsCalls.JsonAsync(_server.Http, method, path, body, expected);
}

/// <summary>Triton's trace extension (<c>/v2/trace/setting</c>, per model, gRPC <c>TraceSetting</c>) over OpenTelemetry's spans.</summary>
public sealed class TraceSettingsTests : IAsyncLifetime
{
    private readonly FolderServer _server = new();
    private readonly List<Activity> _spans = [];

    public async Task InitializeAsync()
    {
        _server.Folder.Add("m", SampleModels.AddSub(DataType.Int32, 4)).Add("other", SampleModels.AddSub(DataType.Int32, 4));
        await _server.StartAsync(
            options => options.Tracing.Enabled = true,
            services: services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(_spans)));
    }

    public Task DisposeAsync() => _server.DisposeAsync().AsTask();

    [Fact]
    public async Task The_rate_traces_one_request_in_n_and_the_count_stops_after_n()
    {
        using var initial = await JsonAsync(HttpMethod.Get, "v2/trace/setting", null, HttpStatusCode.OK);
        Assert.Equal(["TIMESTAMPS"], initial.RootElement.GetProperty("trace_level").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal("opentelemetry", initial.RootElement.GetProperty("trace_mode").GetString());

        using (await JsonAsync(HttpMethod.Post, "v2/trace/setting", """{"trace_rate": "2"}""", HttpStatusCode.OK))
        {
        }

        var traces = await InferAsync("m", 4);
        await SpanAsync(traces[3]); // the 2nd and the 4th are traced; the 4th ends after the others
        Assert.Equal([false, true, false, true], traces.Select(HasSpan));

        using var counted = await JsonAsync(HttpMethod.Post, "v2/trace/setting", """{"trace_rate": null, "trace_count": "1"}""", HttpStatusCode.OK);
        Assert.Equal("1", counted.RootElement.GetProperty("trace_count").GetString());
        var once = await InferAsync("m", 2);
        await SpanAsync(once[0]);
        using var spent = await JsonAsync(HttpMethod.Get, "v2/trace/setting", null, HttpStatusCode.OK);
        Assert.Equal("0", spent.RootElement.GetProperty("trace_count").GetString());
        var sentinel = await InferAsync("other", 1); // a model of its own setting below would still follow the global count
        Assert.False(HasSpan(once[1]) || HasSpan(sentinel[0]));
    }

    [Fact]
    public async Task A_model_setting_overrides_the_global_one_until_cleared()
    {
        using (await JsonAsync(HttpMethod.Post, "v2/models/m/trace/setting", """{"trace_level": ["OFF"]}""", HttpStatusCode.OK))
        {
        }

        var off = await InferAsync("m", 1);
        var on = await InferAsync("other", 1);
        await SpanAsync(on[0]);
        Assert.False(HasSpan(off[0]));

        using var cleared = await JsonAsync(HttpMethod.Post, "v2/models/m/trace/setting", """{"trace_level": null}""", HttpStatusCode.OK);
        Assert.Equal(["TIMESTAMPS"], cleared.RootElement.GetProperty("trace_level").EnumerateArray().Select(v => v.GetString()));
        await SpanAsync((await InferAsync("m", 1))[0]);

        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_server.Server.GrpcPort}");
        var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        var change = new TraceSettingRequest { ModelName = "m" };
        change.Settings["trace_rate"] = new TraceSettingRequest.Types.SettingValue { Value = { "5" } };
        var changed = await grpc.TraceSettingAsync(change);
        Assert.Equal(["5"], changed.Settings["trace_rate"].Value);
        Assert.Equal(["1"], (await grpc.TraceSettingAsync(new TraceSettingRequest())).Settings["trace_rate"].Value); // the global one
    }

    [Theory]
    [InlineData("v2/trace/setting", """{"trace_level": ["TENSORS"]}""", HttpStatusCode.BadRequest, "TENSORS is not supported")]
    [InlineData("v2/trace/setting", """{"trace_file": "/tmp/trace.json"}""", HttpStatusCode.BadRequest, "trace_file is not supported")]
    [InlineData("v2/trace/setting", """{"trace_rate": "0"}""", HttpStatusCode.BadRequest, "trace_rate must be one integer of at least 1")]
    [InlineData("v2/trace/setting", """{"trace_sampler": "x"}""", HttpStatusCode.BadRequest, "unknown trace setting 'trace_sampler'")]
    [InlineData("v2/models/missing/trace/setting", """{"trace_rate": "2"}""", HttpStatusCode.NotFound, "missing")]
    public async Task Settings_it_cannot_honour_are_refused(string path, string body, HttpStatusCode status, string expected)
    {
        using var error = await JsonAsync(HttpMethod.Post, path, body, status);

        Assert.Contains(expected, error.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    private bool HasSpan(ActivityTraceId trace)
    {
        lock (_spans)
        {
            return _spans.Exists(span => span.TraceId == trace && span.DisplayName == "turbine.infer");
        }
    }

    private async Task SpanAsync(ActivityTraceId trace)
    {
        var clock = Stopwatch.StartNew();
        while (!HasSpan(trace))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the span was not exported");
            await Task.Delay(20); // the exporter has no signal to await; its list is the witness
        }
    }

    /// <summary>Sends <paramref name="count"/> requests one after another, each in a trace of its own; returns their trace ids.</summary>
    private async Task<List<ActivityTraceId>> InferAsync(string model, int count)
    {
        var traces = new List<ActivityTraceId>();
        for (var i = 0; i < count; i++)
        {
            var trace = ActivityTraceId.CreateRandom();
            using var request = new HttpRequestMessage(HttpMethod.Post, $"v2/models/{model}/infer") { Content = AddSubRequests.Content() };
            request.Headers.Add("traceparent", $"00-{trace}-{ActivitySpanId.CreateRandom()}-01");
            using var response = await _server.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            traces.Add(trace);
        }

        return traces;
    }

    private Task<JsonDocument> JsonAsync(HttpMethod method, string path, string? body, HttpStatusCode expected) =>
        SettingsCalls.JsonAsync(_server.Http, method, path, body, expected);
}

/// <summary>One settings call, its status checked and its JSON body parsed.</summary>
internal static class SettingsCalls
{
    public static async Task<JsonDocument> JsonAsync(HttpClient http, HttpMethod method, string path, string? body, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, text);
        return JsonDocument.Parse(text);
    }
}
