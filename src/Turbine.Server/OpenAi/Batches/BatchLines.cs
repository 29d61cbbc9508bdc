using System.Text;
using System.Text.Json;
using Turbine.Llm.Serving;

namespace Turbine.Server.OpenAi.Batches;

/// <summary>
/// Turns the OpenAI Batch API's request lines into the KServe v2 request lines a batch job runs, and the job's answers
/// back into the Batch API's output and error lines. A chat request's messages go through the model's chat template
/// here, once; the sampling settings travel as the model's <c>sampling_parameters</c> input; the line's
/// <c>custom_id</c> is the request's id, which the job carries into its answer.
/// </summary>
internal static class BatchLines
{
    /// <summary>A request line as a KServe v2 request line; null with the reason it cannot run.</summary>
    public static string? ToKServe(JsonElement line, string endpoint, GenerativeModel model, string modelName, out string? customId, out string? error)
    {
        if (Envelope(line, endpoint, out customId, out error) is not { } body)
        {
            return null;
        }

        var chat = endpoint == "/v1/chat/completions";
        var request = GenerationBodyReader.Read(Encoding.UTF8.GetBytes(body.GetRawText()), chat, out var problem);
        if (request is null)
        {
            error = problem!.Message;
            return null;
        }

        error = request.Model != modelName ? $"every line of a batch names one model ('{modelName}'), this one '{ClientText.Quote(request.Model)}'"
            : request.N != 1 || request.Stream || request.Tools is not null || request.Structured is not null || request.Sampling.Logprobs || request.Echo
                ? "n, stream, tools, response_format, logprobs and echo are not served in batches yet"
            : request.Stop.Count > 1 ? "one stop string at most in a batch line"
            : !chat && request.Prompts is not [{ Text: not null }] ? "a completion line's prompt must be one string"
            : null;
        if (error is not null)
        {
            return null;
        }

        string? prompt;
        if (chat)
        {
            prompt = model.Chat.Render(request.Messages!, null, out var renderProblem);
            error = renderProblem;
        }
        else
        {
            prompt = request.Prompts[0].Text;
        }

        if (prompt is null)
        {
            return null;
        }

        var promptTokens = model.Encode(prompt).Count;
        var maxTokens = request.MaxTokens ?? (chat ? model.MaxContext - promptTokens : KServeGeneration.DefaultMaxTokens);
        if (maxTokens < 1 || promptTokens + maxTokens > model.MaxContext)
        {
            error = $"the prompt ({promptTokens} tokens) and max_tokens ({maxTokens}) exceed the model's context of {model.MaxContext} tokens";
            return null;
        }

        var sampling = request.Sampling;
        var settings = new Dictionary<string, object?>
        {
            ["max_tokens"] = maxTokens,
            ["temperature"] = sampling.Temperature,
            ["top_p"] = sampling.TopP,
            ["top_k"] = sampling.TopK,
            ["min_p"] = sampling.MinP,
            ["repetition_penalty"] = sampling.RepetitionPenalty,
            ["presence_penalty"] = sampling.PresencePenalty,
            ["frequency_penalty"] = sampling.FrequencyPenalty,
        };
        if (sampling.Seed is { } seed)
        {
            settings["seed"] = seed;
        }

        var stops = chat ? [.. request.Stop, .. model.Chat.TurnEnds] : request.Stop;
        if (stops.Count > 0)
        {
            settings["stop"] = stops[0];
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id", customId);
            writer.WriteStartArray("inputs");
            Input(writer, KServeGeneration.TextInput, "BYTES", () => writer.WriteStringValue(prompt));
            Input(writer, KServeGeneration.SamplingParametersInput, "BYTES", () => writer.WriteStringValue(JsonSerializer.Serialize(settings)));
            Input(writer, KServeGeneration.ExcludeInputInOutput, "BOOL", () => writer.WriteBooleanValue(true));
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>
    /// An embeddings request line as a KServe v2 request line for the encoder (token ids, mask and segments, one input
    /// text per line); <paramref name="options"/> keeps what the answer needs back (encoding, dimensions, tokens).
    /// </summary>
    public static string? ToKServeEmbedding(JsonElement line, Turbine.Llm.Embeddings.EncoderModel encoder, ModelConfig config, string modelName, out string? customId, out EmbeddingOptions? options, out string? error)
    {
        options = null;
        if (Envelope(line, "/v1/embeddings", out customId, out error) is not { } body)
        {
            return null;
        }

        var request = EmbeddingBody.Read(Encoding.UTF8.GetBytes(body.GetRawText()), out var problem);
        error = request is null ? problem!.Message
            : request.Model != modelName ? $"every line of a batch names one model ('{modelName}'), this one '{ClientText.Quote(request.Model)}'"
            : request.Inputs is not [var only] ? "one input per line in an embeddings batch"
            : null;
        if (error is not null)
        {
            return null;
        }

        var ids = request!.Inputs[0].Tokens ?? encoder.Encode(request.Inputs[0].Text!);
        if (ids.Count > encoder.MaxTokens)
        {
            error = $"the input has {ids.Count} tokens, more than the model's {encoder.MaxTokens}";
            return null;
        }

        options = new EmbeddingOptions(request.Base64, request.Dimensions, ids.Count);
        var batched = config.MaxBatchSize > 0;
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id", customId);
            writer.WriteStartArray("inputs");
            foreach (var input in config.Inputs)
            {
                writer.WriteStartObject();
                writer.WriteString("name", input.Name);
                writer.WriteString("datatype", input.DataType.ToWireName());
                writer.WriteStartArray("shape");
                if (batched)
                {
                    writer.WriteNumberValue(1);
                }

                writer.WriteNumberValue(ids.Count);
                writer.WriteEndArray();
                writer.WriteStartArray("data");
                foreach (var token in ids)
                {
                    writer.WriteNumberValue(input.Name switch { "input_ids" => token, "attention_mask" => 1, _ => 0 });
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>An encoder's answer line as a Batch API output line holding the embeddings list the endpoint answers.</summary>
    public static string EmbeddingOutput(JsonElement answer, string model, EmbeddingOptions options)
    {
        var output = answer.GetProperty("outputs").EnumerateArray().First(o => Turbine.Llm.Embeddings.EncoderModel.TokenOutputs.Contains(o.GetProperty("name").GetString()));
        var vectors = output.GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        var embedding = Turbine.Llm.Embeddings.EncoderModel.Pool(vectors, options.Tokens, options.Dimensions);
        return Line(answer.GetProperty("id").GetString(), writer =>
        {
            writer.WriteStartObject("response");
            writer.WriteNumber("status_code", 200);
            writer.WriteString("request_id", "emb-" + Guid.NewGuid().ToString("N"));
            writer.WritePropertyName("body");
            EmbeddingEndpoint.WriteList(writer, model, [embedding], options.Base64, options.Tokens);
            writer.WriteEndObject();
            writer.WriteNull("error");
        });
    }

    /// <summary>A request line's envelope (<c>custom_id</c>, <c>method</c>, <c>url</c>): its body, or null with why the line cannot run.</summary>
    private static JsonElement? Envelope(JsonElement line, string endpoint, out string? customId, out string? error)
    {
        customId = line.ValueKind == JsonValueKind.Object && line.TryGetProperty("custom_id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
        error = customId is null ? "each line needs a string 'custom_id'"
            : !line.TryGetProperty("method", out var method) || method.GetString() != "POST" ? "'method' must be POST"
            : !line.TryGetProperty("url", out var url) || url.GetString() != endpoint ? $"'url' must be the batch's endpoint, {endpoint}"
            : !line.TryGetProperty("body", out var body) || body.ValueKind != JsonValueKind.Object ? "'body' must be the request object"
            : null;
        return error is null ? line.GetProperty("body") : null;
    }

    /// <summary>A KServe v2 answer line of the job as a Batch API output line with the completion object of the endpoint.</summary>
    public static string Output(JsonElement answer, string endpoint, string model, long created)
    {
        var outputs = answer.GetProperty("outputs").EnumerateArray().ToDictionary(o => o.GetProperty("name").GetString()!, o => o.GetProperty("data")[0]);
        var customId = answer.GetProperty("id").GetString()!;
        var chat = endpoint == "/v1/chat/completions";
        var requestId = (chat ? "chatcmpl-" : "cmpl-") + Guid.NewGuid().ToString("N");
        var choice = new FinishedChoice(outputs[KServeGeneration.TextOutput].GetString(), outputs[KServeGeneration.FinishReasonOutput].GetString(), null);
        var usage = new Usage(outputs[KServeGeneration.InputTokensOutput].GetInt32(), outputs[KServeGeneration.OutputTokensOutput].GetInt32());
        return Line(customId, writer =>
        {
            writer.WriteStartObject("response");
            writer.WriteNumber("status_code", 200);
            writer.WriteString("request_id", requestId);
            writer.WritePropertyName("body");
            OpenAiJson.WriteWhole(writer, chat, requestId, created, model, [choice], usage);
            writer.WriteEndObject();
            writer.WriteNull("error");
        });
    }

    /// <summary>An error line: the request's id and why it failed, as the Batch API's error file holds them.</summary>
    public static string Error(string? customId, string code, string message) => Line(customId, writer =>
    {
        writer.WriteNull("response");
        writer.WriteStartObject("error");
        writer.WriteString("code", code);
        writer.WriteString("message", message);
        writer.WriteEndObject();
    });

    private static string Line(string? customId, Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id", "batch_req_" + Guid.NewGuid().ToString("N")[..24]);
            writer.WriteString("custom_id", customId);
            write(writer);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Input(Utf8JsonWriter writer, string name, string datatype, Action data)
    {
        writer.WriteStartObject();
        writer.WriteString("name", name);
        writer.WriteString("datatype", datatype);
        writer.WriteStartArray("shape");
        writer.WriteNumberValue(1);
        writer.WriteEndArray();
        writer.WriteStartArray("data");
        data();
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}

/// <summary>What an embeddings line's answer needs back: its encoding, its dimensions, its token count.</summary>
internal sealed record EmbeddingOptions(bool Base64, int? Dimensions, int Tokens);
