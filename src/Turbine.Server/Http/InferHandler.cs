using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Turbine.Core.Execution;
using Turbine.Core.Observation;
using Turbine.Protocols;
using Turbine.Protocols.KServe;
using Turbine.Server.Hosting;
using Turbine.Traffic;

namespace Turbine.Server.Http;

/// <summary>
/// <c>POST /v2/models/{model}[/versions/{version}]/infer</c>: reads the body, decodes JSON and binary tensors,
/// runs the request and writes JSON (plus binary outputs when asked for).
/// </summary>
internal sealed class InferHandler(InferenceService inference, ServerReadiness readiness, TraceSettings traces, IOptions<TurbineServerOptions> options, ISharedMemory? sharedMemory = null)
{
    private const string HeaderLengthName = "Inference-Header-Content-Length";
    private const string VariantHeaderName = "Turbine-Variant";
    private readonly KServeLimits _limits = new(options.Value.MaxRequestBodyBytes, options.Value.MaxJsonDepth);
    private readonly long _maxBody = options.Value.MaxRequestBodyBytes;

    public async Task HandleAsync(HttpContext context, string model, string? version)
    {
        if (readiness.IsStopping)
        {
            await HttpResults.WriteErrorAsync(context, ServerReadiness.ShuttingDown);
            return;
        }

        var contentType = context.Request.ContentType;
        if (!IsAcceptedContentType(contentType))
        {
            await HttpResults.WriteErrorAsync(context, StatusCodes.Status415UnsupportedMediaType,
                $"unsupported Content-Type '{ClientText.Quote(contentType)}'; use application/json (or application/octet-stream with binary tensors)");
            return;
        }

        var headerError = ParseHeaderLength(context.Request, out var headerLength);
        if (headerError is not null)
        {
            await HttpResults.WriteErrorAsync(context, headerError);
            return;
        }

        if (await RequestBodyReader.ReadOrRefuseAsync(context, _maxBody) is not { } body)
        {
            return;
        }

        using var span = traces.ShouldTrace(model) ? TurbineTracing.StartInfer(model, "http", context.Request.Headers.TraceParent, context.Request.Headers.TraceState) : null;
        using (body)
        {
            InferenceError? decodeError;
            InferenceRequest? request;
            using (TurbineTracing.StartStep("turbine.decode"))
            {
                decodeError = headerLength == 0
                    ? DecodeRaw(body.Span, model, version, out request)
                    : KServeRequestDecoder.Decode(body.Span, headerLength, model, version, _limits, out request, inference.InputCheckFor(model, version), sharedMemory);
            }

            if (decodeError is not null)
            {
                span?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, decodeError.Code.ToString());
                await HttpResults.WriteErrorAsync(context, decodeError);
                return;
            }

            using (request)
            {
                body.Dispose(); // the tensors hold their own copies; give the body back before the model runs
                if (inference.StickyHeaderOf(request!.ModelName) is { } header && context.Request.Headers.TryGetValue(header, out var key))
                {
                    request.RoutingKey = key.ToString();
                }

                var result = await inference.InferAsync(request!, context.RequestAborted);
                if (result.Error is not null)
                {
                    span?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, result.Error.Code.ToString());
                    await HttpResults.WriteErrorAsync(context, result.Error);
                    return;
                }

                using var response = result.Response!;
                if ((SharedMemoryOutputs.Place(response, request.Outputs, sharedMemory, out var places) ?? KServeResponseEncoder.CheckJsonOutputs(response, places)) is { } unwritable)
                {
                    await HttpResults.WriteErrorAsync(context, unwritable);
                    return;
                }

                using (TurbineTracing.StartStep("turbine.encode"))
                {
                    await WriteResponseAsync(context, response, places);
                }
            }
        }
    }

    /// <summary>A raw binary request: the body is the data of the one input of the model (or route, or pipeline) it names.</summary>
    private InferenceError? DecodeRaw(ReadOnlySpan<byte> body, string model, string? version, out InferenceRequest? request)
    {
        request = null;
        return inference.TryGetModel(model, version, out var info) ?? KServeRawRequestDecoder.Decode(body, info!.Config, model, version, _limits, out request);
    }

    private static async Task WriteResponseAsync(HttpContext context, InferenceResponse response, SharedMemoryRef?[]? places)
    {
        using var buffer = new PooledBufferWriter(16 * 1024);
        var headerLength = KServeResponseEncoder.Write(buffer, response, places);
        context.Response.StatusCode = StatusCodes.Status200OK;
        if (response.Parameters?.TryGetValue(InferenceService.VariantParameter, out var variant) == true)
        {
            context.Response.Headers[VariantHeaderName] = (string)variant;
        }

        if (headerLength >= 0)
        {
            context.Response.ContentType = "application/octet-stream";
            context.Response.Headers[HeaderLengthName] = headerLength.ToString(CultureInfo.InvariantCulture);
        }
        else
        {
            context.Response.ContentType = "application/json";
        }

        context.Response.ContentLength = buffer.WrittenMemory.Length;
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
    }

    private static bool IsAcceptedContentType(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return true;
        }

        var mediaType = contentType.AsSpan();
        var semicolon = mediaType.IndexOf(';');
        if (semicolon >= 0)
        {
            mediaType = mediaType[..semicolon];
        }

        mediaType = mediaType.Trim();
        // Form-encoded is what plain `curl -d` sends: the body is still the JSON the user typed.
        return mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) ||
               mediaType.Equals("application/octet-stream", StringComparison.OrdinalIgnoreCase) ||
               mediaType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Parses the binary extension header strictly (SECURITY.md A9): one value, decimal digits only.</summary>
    private static InferenceError? ParseHeaderLength(HttpRequest request, out int headerLength)
    {
        headerLength = -1;
        var values = request.Headers[HeaderLengthName];
        if (values.Count == 0)
        {
            return null;
        }

        if (values.Count > 1 || !int.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out headerLength))
        {
            headerLength = -1;
            return InferenceError.Invalid($"{HeaderLengthName} must be one non-negative decimal integer no larger than the body");
        }

        return null;
    }
}
