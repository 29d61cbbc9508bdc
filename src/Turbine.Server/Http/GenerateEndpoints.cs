using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Turbine.Core.Lifecycle;
using Turbine.Llm.Serving;
using Turbine.Protocols.KServe;
using Turbine.Server.Hosting;
using Turbine.Server.OpenAi;
using Turbine.Traffic;

namespace Turbine.Server.Http;

/// <summary>
/// Triton's generate extension: <c>POST /v2/models/{model}[/versions/{version}]/generate</c> and <c>generate_stream</c>.
/// The body is a flat JSON object whose members are the model's inputs by name (a value, or an array of values, typed
/// as the model declares the input) and whose <c>parameters</c> are the request's parameters; the answer names the
/// model and version and holds each output by name (a single element as a value). A generative model streams its
/// text as server-sent events (<c>text_output</c> per piece); any other model answers with one event.
/// </summary>
internal static class GenerateEndpoints
{
    public static void MapGenerate(this IEndpointRouteBuilder app)
    {
        foreach (var prefix in (string[])["/v2/models/{model}", "/v2/models/{model}/versions/{version}"])
        {
            app.MapPost(prefix + "/generate", (HttpContext context, string model, string? version) => GenerateAsync(context, model, version, stream: false));
            app.MapPost(prefix + "/generate_stream", (HttpContext context, string model, string? version) => GenerateAsync(context, model, version, stream: true));
        }
    }

    private static async Task GenerateAsync(HttpContext context, string model, string? version, bool stream)
    {
        var services = context.RequestServices;
        var inference = services.GetRequiredService<InferenceService>();
        var limit = services.GetRequiredService<IOptions<TurbineServerOptions>>().Value.MaxRequestBodyBytes;
        if (await RequestBodyReader.ReadOrRefuseAsync(context, limit) is not { } body)
        {
            return;
        }

        InferenceRequest? request;
        InferenceError? error;
        using (body)
        {
            error = inference.TryGetModel(model, version, out var info);
            request = error is null ? Read(body.Span, model, version, info!.Config, out error) : null;
        }

        if (request is null)
        {
            await HttpResults.WriteErrorAsync(context, error!);
            return;
        }

        using (request)
        {
            if (stream && services.GetRequiredService<ModelManager>().Resolve(model, version, out var runner) is null && runner is GenerationRunner generative)
            {
                await StreamTextAsync(context, generative, request);
                return;
            }

            var result = await inference.InferAsync(request, context.RequestAborted);
            using var response = result.Response;
            if (result.Error is { } failed)
            {
                await HttpResults.WriteErrorAsync(context, failed);
                return;
            }

            if (stream)
            {
                await new ServerSentEvents(context.Response).WriteAsync(writer => WriteAnswer(writer, response!));
                return;
            }

            await HttpResults.WriteJsonAsync(context, output =>
            {
                using var writer = new Utf8JsonWriter(output, KServeJson.WriterOptions);
                WriteAnswer(writer, response!);
            });
        }
    }

    /// <summary>The generated text piece by piece, each an event of its own, as Triton's LLM backends stream.</summary>
    private static async Task StreamTextAsync(HttpContext context, GenerationRunner runner, InferenceRequest request)
    {
        if (!runner.TryEnter())
        {
            await HttpResults.WriteErrorAsync(context, InferenceError.Unavailable("the version is being unloaded"));
            return;
        }

        var time = context.RequestServices.GetRequiredService<TimeProvider>();
        var started = time.GetTimestamp();
        var (success, tokens) = (false, 0);
        var events = new ServerSentEvents(context.Response);
        try
        {
            var prompt = request.Inputs.Find(i => i.Name == KServeGeneration.TextInput)?.ToStrings();
            if (prompt is not { Length: 1 })
            {
                await HttpResults.WriteErrorAsync(context, InferenceError.Invalid($"'{KServeGeneration.TextInput}' must hold one string"));
                return;
            }

            var parameters = KServeGeneration.Merge(request, out var problem, streaming: true);
            if (parameters is null || KServeGeneration.Options(parameters, out _, out problem) is not { } options)
            {
                await HttpResults.WriteErrorAsync(context, InferenceError.Invalid(problem!));
                return;
            }

            await foreach (var delta in runner.Model.Text.StreamAsync(runner.Model.Encode(prompt[0]), options, context.RequestAborted))
            {
                tokens = delta.CompletionTokens;
                await events.WriteAsync(writer =>
                {
                    writer.WriteStartObject();
                    writer.WriteString("model_name"u8, request.ModelName);
                    writer.WriteString("model_version"u8, runner.VersionText);
                    writer.WriteString(KServeGeneration.TextOutput, delta.Text);
                    writer.WriteEndObject();
                });
            }

            success = true;
        }
        catch (InferenceException e)
        {
            if (events.Started)
            {
                await events.WriteAsync(writer => WriteError(writer, e.Error.Message));
            }
            else
            {
                await HttpResults.WriteErrorAsync(context, e.Error);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The client left; the engine has dropped the sequence.
        }
        finally
        {
            runner.Record(started, success, tokens);
            runner.Leave();
        }
    }

    /// <summary>The request of a generate body: each member an input, typed as the model declares it.</summary>
    private static InferenceRequest? Read(ReadOnlySpan<byte> json, string model, string? version, ModelConfig config, out InferenceError? error)
    {
        error = null;
        var request = new InferenceRequest { ModelName = model, ModelVersion = version };
        try
        {
            using var document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("the generate body must be a JSON object");
            }

            foreach (var member in document.RootElement.EnumerateObject())
            {
                if (member.NameEquals("parameters"u8))
                {
                    request.Parameters = Parameters(member.Value);
                    continue;
                }

                if (member.NameEquals("id"u8) && member.Value.ValueKind == JsonValueKind.String)
                {
                    request.Id = member.Value.GetString();
                    continue;
                }

                var input = config.Inputs.FirstOrDefault(i => i.Name == member.Name)
                    ?? throw new FormatException($"'{ClientText.Quote(member.Name)}' is not an input of model '{model}' (its inputs: {string.Join(", ", config.Inputs.Select(i => i.Name))})");
                request.Inputs.Add(ToTensor(input, member.Value, config.MaxBatchSize > 0));
            }

            return request;
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or OverflowException)
        {
            request.Dispose();
            error = InferenceError.Invalid(e is JsonException ? "the generate body is not valid JSON" : e.Message);
            return null;
        }
    }

    private static Tensor ToTensor(TensorConfig input, JsonElement value, bool batched)
    {
        var items = value.ValueKind == JsonValueKind.Array ? [.. value.EnumerateArray()] : (JsonElement[])[value];
        long[] shape = batched ? [1, items.Length] : [items.Length];
        return input.DataType switch
        {
            DataType.Bytes => Tensor.FromStrings(input.Name, shape, [.. items.Select(i => i.ValueKind == JsonValueKind.String ? i.GetString()! : i.GetRawText())]),
            DataType.Bool => Tensor.FromArray<bool>(input.Name, shape, [.. items.Select(i => i.GetBoolean())]),
            DataType.Fp32 => Tensor.FromArray<float>(input.Name, shape, [.. items.Select(i => i.GetSingle())]),
            DataType.Fp64 => Tensor.FromArray<double>(input.Name, shape, [.. items.Select(i => i.GetDouble())]),
            DataType.Int8 => Tensor.FromArray<sbyte>(input.Name, shape, [.. items.Select(i => i.GetSByte())]),
            DataType.Int16 => Tensor.FromArray<short>(input.Name, shape, [.. items.Select(i => i.GetInt16())]),
            DataType.Int32 => Tensor.FromArray<int>(input.Name, shape, [.. items.Select(i => i.GetInt32())]),
            DataType.Int64 => Tensor.FromArray<long>(input.Name, shape, [.. items.Select(i => i.GetInt64())]),
            DataType.UInt8 => Tensor.FromArray<byte>(input.Name, shape, [.. items.Select(i => i.GetByte())]),
            DataType.UInt16 => Tensor.FromArray<ushort>(input.Name, shape, [.. items.Select(i => i.GetUInt16())]),
            DataType.UInt32 => Tensor.FromArray<uint>(input.Name, shape, [.. items.Select(i => i.GetUInt32())]),
            DataType.UInt64 => Tensor.FromArray<ulong>(input.Name, shape, [.. items.Select(i => i.GetUInt64())]),
            _ => throw new FormatException($"input '{input.Name}' is {input.DataType.ToWireName()}, which the generate extension cannot take from JSON; use /infer"),
        };
    }

    private static Dictionary<string, object> Parameters(JsonElement parameters)
    {
        if (parameters.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("'parameters' must be an object");
        }

        var result = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var parameter in parameters.EnumerateObject())
        {
            result[parameter.Name] = parameter.Value.ValueKind switch
            {
                JsonValueKind.True or JsonValueKind.False => parameter.Value.GetBoolean(),
                JsonValueKind.Number when parameter.Value.TryGetInt64(out var whole) => whole,
                JsonValueKind.Number => parameter.Value.GetDouble(),
                JsonValueKind.String => parameter.Value.GetString()!,
                _ => throw new FormatException($"parameter '{ClientText.Quote(parameter.Name)}' must be a bool, number or string"),
            };
        }

        return result;
    }

    private static void WriteAnswer(Utf8JsonWriter writer, InferenceResponse response)
    {
        writer.WriteStartObject();
        writer.WriteString("model_name"u8, response.ModelName);
        writer.WriteString("model_version"u8, response.ModelVersion);
        foreach (var output in response.Outputs)
        {
            writer.WritePropertyName(output.Name);
            var write = ElementWriter(output);
            var count = output.ElementCount;
            if (count == 1)
            {
                write(writer, 0);
                continue;
            }

            writer.WriteStartArray();
            for (var i = 0; i < count; i++)
            {
                write(writer, i);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    /// <summary>Writes one element of <paramref name="output"/> as JSON: text, a boolean, a float at its shortest exact form, or an exact integer.</summary>
    private static Action<Utf8JsonWriter, int> ElementWriter(Tensor output)
    {
        switch (output.DataType)
        {
            case DataType.Bytes:
                var texts = output.ToStrings();
                return (writer, i) => writer.WriteStringValue(texts[i]);
            case DataType.Bool:
                var flags = output.ToArray<bool>();
                return (writer, i) => writer.WriteBooleanValue(flags[i]);
            case DataType.Fp32:
                var floats = output.ToArray<float>();
                return (writer, i) => writer.WriteNumberValue(floats[i]);
            case DataType.Fp64 or DataType.Fp16 or DataType.Bf16:
                var doubles = TensorValues.AsDoubles(output)!;
                return (writer, i) => writer.WriteNumberValue(doubles[i]);
            default:
                return (writer, i) => writer.WriteRawValue(TensorValues.Format(output, i), skipInputValidation: true);
        }
    }

    private static void WriteError(Utf8JsonWriter writer, string message)
    {
        writer.WriteStartObject();
        writer.WriteString("error"u8, message);
        writer.WriteEndObject();
    }
}
