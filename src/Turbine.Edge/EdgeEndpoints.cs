using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Turbine.Core.Execution;
using Turbine.Protocols.KServe;

namespace Turbine.Edge;

/// <summary>
/// The edge server's HTTP surface, KServe v2 REST for inference only: health, server and model metadata, infer (JSON
/// and the binary tensor extension) and Prometheus metrics. No repository API, no routes, no OpenAI: the regular
/// server has those. Every handler is a plain delegate over <see cref="ModelExecutor"/>, so nothing reflects.
/// </summary>
internal static class EdgeEndpoints
{
    private const string HeaderLengthName = "Inference-Header-Content-Length";

    /// <summary>Where the agent reads the drift sketch (loopback clients only: it describes what clients sent).</summary>
    public const string SketchesPath = "/v2/edge/sketches";

    public static void Map(WebApplication app, ModelExecutor executor, EdgeOptions options, InputSketches sketches, Func<bool> ready)
    {
        var limits = new KServeLimits(options.MaxRequestBytes, 64);
        app.MapGet("/v2/health/live", () => Results.Text("{\"live\":true}", "application/json"));
        app.MapGet("/v2/health/ready", (HttpContext context) =>
        {
            context.Response.StatusCode = ready() ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
            return context.Response.WriteAsync(ready() ? "{\"ready\":true}" : "{\"ready\":false}");
        });
        app.MapGet("/v2", (HttpContext context) => WriteAsync(context, w => KServeJson.WriteServerMetadata(w, "turbine-edge", ThisAssembly.Version, [])));
        app.MapGet("/v2/models/{model}", (HttpContext context, string model) => MetadataAsync(context, executor, model, null));
        app.MapGet("/v2/models/{model}/versions/{version}", (HttpContext context, string model, string version) => MetadataAsync(context, executor, model, version));
        app.MapGet("/v2/models/{model}/ready", (HttpContext context, string model) => ReadyAsync(context, executor, model, null));
        app.MapGet("/v2/models/{model}/versions/{version}/ready", (HttpContext context, string model, string version) => ReadyAsync(context, executor, model, version));
        app.MapPost("/v2/models/{model}/infer", (HttpContext context, string model) => InferAsync(context, executor, limits, options, sketches, model, null));
        app.MapPost("/v2/models/{model}/versions/{version}/infer", (HttpContext context, string model, string version) => InferAsync(context, executor, limits, options, sketches, model, version));
        app.MapGet(SketchesPath, (HttpContext context) =>
        {
            if (context.Connection.RemoteIpAddress is not { } client || !System.Net.IPAddress.IsLoopback(client))
            {
                return ErrorAsync(context, StatusCodes.Status403Forbidden, "the drift sketch is for the device's own agent (loopback clients only)");
            }

            return WriteAsync(context, output =>
            {
                using var writer = new System.Text.Json.Utf8JsonWriter(output);
                sketches.WriteAndReset(writer);
            });
        });
        app.MapGet("/metrics", (HttpContext context) =>
        {
            context.Response.ContentType = "text/plain; version=0.0.4";
            return context.Response.WriteAsync(EdgeMetrics.Render(executor));
        });
    }

    private static Task MetadataAsync(HttpContext context, ModelExecutor executor, string model, string? version) =>
        executor.TryGetModel(model, version, out var info) is { } error ? ErrorAsync(context, error) : WriteAsync(context, w => KServeJson.WriteModelMetadata(w, info!));

    private static Task ReadyAsync(HttpContext context, ModelExecutor executor, string model, string? version)
    {
        context.Response.StatusCode = executor.TryGetModel(model, version, out _) is null ? StatusCodes.Status200OK : StatusCodes.Status400BadRequest;
        return Task.CompletedTask;
    }

    private static async Task InferAsync(HttpContext context, ModelExecutor executor, KServeLimits limits, EdgeOptions options, InputSketches sketches, string model, string? version)
    {
        var headerLength = -1;
        if (context.Request.Headers.TryGetValue(HeaderLengthName, out var header) &&
            (!int.TryParse(header, NumberStyles.None, CultureInfo.InvariantCulture, out headerLength) || headerLength < 0))
        {
            await ErrorAsync(context, InferenceError.Invalid($"{HeaderLengthName} must be a non-negative integer"));
            return;
        }

        if (context.Request.ContentLength > options.MaxRequestBytes)
        {
            await ErrorAsync(context, StatusCodes.Status413PayloadTooLarge, $"the request body is larger than {options.MaxRequestBytes} bytes");
            return;
        }

        var body = await ReadBodyAsync(context.Request, options.MaxRequestBytes, context.RequestAborted);
        if (body is null)
        {
            await ErrorAsync(context, StatusCodes.Status413PayloadTooLarge, $"the request body is larger than {options.MaxRequestBytes} bytes");
            return;
        }

        var error = KServeRequestDecoder.Decode(body.WrittenSpan, headerLength, model, version, limits, out var request, executor.InputCheckFor(model, version));
        if (error is not null)
        {
            await ErrorAsync(context, error);
            return;
        }

        using (request)
        {
            var result = await executor.InferAsync(request!, context.RequestAborted);
            if (result.Error is not null)
            {
                await ErrorAsync(context, result.Error);
                return;
            }

            using var response = result.Response!;
            sketches.Add(request!);
            if (KServeResponseEncoder.CheckJsonOutputs(response) is { } unwritable)
            {
                await ErrorAsync(context, unwritable);
                return;
            }

            var output = new ArrayBufferWriter<byte>(16 * 1024);
            var responseHeader = KServeResponseEncoder.Write(output, response);
            if (responseHeader >= 0)
            {
                context.Response.Headers[HeaderLengthName] = responseHeader.ToString(CultureInfo.InvariantCulture);
            }

            context.Response.ContentType = responseHeader >= 0 ? "application/octet-stream" : "application/json";
            context.Response.ContentLength = output.WrittenCount;
            await context.Response.Body.WriteAsync(output.WrittenMemory, context.RequestAborted);
        }
    }

    /// <summary>The whole body, or null once it passes <paramref name="limit"/> bytes (a chunked body has no length to check first).</summary>
    private static async Task<ArrayBufferWriter<byte>?> ReadBodyAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        var body = new ArrayBufferWriter<byte>((int)Math.Min(request.ContentLength ?? 16 * 1024, limit));
        while (true)
        {
            var read = await request.Body.ReadAsync(body.GetMemory(16 * 1024), cancellationToken);
            if (read == 0)
            {
                return body;
            }

            body.Advance(read);
            if (body.WrittenCount > limit)
            {
                return null;
            }
        }
    }

    private static Task WriteAsync(HttpContext context, Action<IBufferWriter<byte>> write)
    {
        var output = new ArrayBufferWriter<byte>(1024);
        write(output);
        context.Response.ContentType = "application/json";
        return context.Response.Body.WriteAsync(output.WrittenMemory).AsTask();
    }

    private static Task ErrorAsync(HttpContext context, InferenceError error) => ErrorAsync(context, KServeHttpStatus.Of(error.Code), error.Message);

    private static Task ErrorAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        if (status is StatusCodes.Status503ServiceUnavailable or StatusCodes.Status429TooManyRequests)
        {
            context.Response.Headers.RetryAfter = "1";
        }

        return WriteAsync(context, w => KServeJson.WriteError(w, message));
    }
}

/// <summary>The build's version, as the server metadata reports it.</summary>
internal static class ThisAssembly
{
    public static string Version { get; } = typeof(ThisAssembly).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
}

/// <summary>The edge server's Prometheus text: per-version request counts and times, the same names as the full server's.</summary>
internal static class EdgeMetrics
{
    public static string Render(ModelExecutor executor)
    {
        executor.Statistics(null, null, out var versions);
        var text = new StringBuilder();
        Family(text, "turbine_inference_request_success_total", "counter", "Successful inference requests.", versions, s => s.Success.Count);
        Family(text, "turbine_inference_request_failure_total", "counter", "Failed inference requests, refused ones included.", versions, s => s.Fail.Count);
        Family(text, "turbine_inference_count_total", "counter", "Inferences performed (a batch of N rows counts N).", versions, s => s.InferenceCount);
        Family(text, "turbine_inference_exec_count_total", "counter", "Model executions (a batch counts 1).", versions, s => s.ExecutionCount);
        Histogram(text, "turbine_inference_request_duration_seconds", "End-to-end time of successful requests, queue included.", versions);
        text.Append("# HELP process_cpu_seconds_total User and system CPU time spent, in seconds.\n# TYPE process_cpu_seconds_total counter\n");
        text.Append(CultureInfo.InvariantCulture, $"process_cpu_seconds_total {Environment.CpuUsage.TotalTime.TotalSeconds}\n");
        text.Append("# HELP process_resident_memory_bytes Resident memory size, in bytes.\n# TYPE process_resident_memory_bytes gauge\n");
        text.Append(CultureInfo.InvariantCulture, $"process_resident_memory_bytes {Environment.WorkingSet}\n");
        return text.ToString();
    }

    private static void Histogram(StringBuilder text, string name, string help, IReadOnlyList<ModelVersionInfo> versions)
    {
        text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} histogram\n");
        var bounds = DurationCounter.BucketBounds;
        foreach (var version in versions)
        {
            var counter = version.Statistics.Success;
            var labels = $"model=\"{version.Config.Name}\",version=\"{version.Version}\"";
            long cumulative = 0;
            for (var i = 0; i <= bounds.Length; i++)
            {
                cumulative += counter.BucketCount(i);
                var le = i < bounds.Length ? (bounds[i] / 1e9).ToString(CultureInfo.InvariantCulture) : "+Inf";
                text.Append(CultureInfo.InvariantCulture, $"{name}_bucket{{{labels},le=\"{le}\"}} {cumulative}\n");
            }

            text.Append(CultureInfo.InvariantCulture, $"{name}_sum{{{labels}}} {counter.Nanoseconds / 1e9}\n{name}_count{{{labels}}} {cumulative}\n");
        }
    }

    private static void Family(StringBuilder text, string name, string type, string help, IReadOnlyList<ModelVersionInfo> versions, Func<ModelStatistics, double> read)
    {
        text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} {type}\n");
        foreach (var version in versions)
        {
            text.Append(CultureInfo.InvariantCulture, $"{name}{{model=\"{version.Config.Name}\",version=\"{version.Version}\"}} {read(version.Statistics)}\n");
        }
    }
}
