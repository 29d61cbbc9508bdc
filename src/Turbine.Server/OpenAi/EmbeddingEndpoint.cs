using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Turbine.Core.Lifecycle;
using Turbine.Llm.Embeddings;
using Turbine.Server.Http;
using Turbine.Traffic;

namespace Turbine.Server.OpenAi;

/// <summary>
/// <c>POST /v1/embeddings</c> over the repository's sentence encoders (<see cref="EncoderModel"/>): each input is
/// tokenized, run as an ordinary request (so the batcher groups inputs of one length, across clients too), and pooled.
/// Embeddings come back as floats or, as the official SDKs ask by default, base64 of little-endian float32.
/// </summary>
internal sealed class EmbeddingEndpoint(ModelManager models, InferenceService inference)
{
    /// <summary>Tokenizers kept, one per loaded encoder version (by load identity).</summary>
    private const int MaxEncoders = 64;

    private readonly ConcurrentDictionary<string, EncoderModel?> _encoders = new(StringComparer.Ordinal);

    public async Task HandleAsync(HttpContext context)
    {
        if (await OpenAiRequest.ReadAsync<EmbeddingBody>(context, EmbeddingBody.Read, body => body.Model) is not { } request)
        {
            return;
        }

        if (Encoder(request.Model, out var config) is not { } encoder)
        {
            await OpenAiError.ModelNotFound(request.Model).WriteAsync(context).ConfigureAwait(false);
            return;
        }

        var tokens = new List<IReadOnlyList<int>>();
        foreach (var input in request.Inputs)
        {
            var ids = input.Tokens ?? encoder.Encode(input.Text!);
            if (ids.Count > encoder.MaxTokens)
            {
                await OpenAiError.Invalid($"This model's maximum context length is {encoder.MaxTokens} tokens, however an input has {ids.Count} tokens. Please reduce the input.", "input", "context_length_exceeded").WriteAsync(context);
                return;
            }

            tokens.Add(ids);
        }

        var runs = tokens.Select(ids => EmbedAsync(request, config!, ids, context.RequestAborted)).ToList();
        var results = await Task.WhenAll(runs);
        if (results.FirstOrDefault(r => r.Error is not null).Error is { } failed)
        {
            await OpenAiError.From(failed).WriteAsync(context);
            return;
        }

        using var buffer = new PooledBufferWriter();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteList(writer, request.Model, [.. results.Select(r => r.Embedding)], request.Base64, tokens.Sum(t => t.Count));
        }

        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
    }

    /// <summary>The embeddings list object: each vector as floats or as base64 of little-endian float32 (as the SDKs decode it), and the usage.</summary>
    public static void WriteList(Utf8JsonWriter writer, string model, IReadOnlyList<float[]> embeddings, bool base64, int promptTokens)
    {
        writer.WriteStartObject();
        writer.WriteString("object"u8, "list");
        writer.WriteStartArray("data"u8);
        for (var i = 0; i < embeddings.Count; i++)
        {
            writer.WriteStartObject();
            writer.WriteString("object"u8, "embedding");
            writer.WriteNumber("index"u8, i);
            if (base64)
            {
                writer.WriteBase64String("embedding"u8, MemoryMarshal.AsBytes(embeddings[i].AsSpan()));
            }
            else
            {
                writer.WriteStartArray("embedding"u8);
                foreach (var value in embeddings[i])
                {
                    writer.WriteNumberValue(value);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteString("model"u8, model);
        writer.WriteStartObject("usage"u8);
        writer.WriteNumber("prompt_tokens"u8, promptTokens);
        writer.WriteNumber("total_tokens"u8, promptTokens);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>The encoder behind a model name: its serving version's configuration and its tokenizer, read once per load.</summary>
    public EncoderModel? Encoder(string name, out ModelConfig? config)
    {
        config = null;
        if (models.Resolve(name, null, out var runner) is not null || !EncoderModel.IsEncoder(runner!.Config))
        {
            return null;
        }

        config = runner.Config;
        if (_encoders.Count > MaxEncoders && !_encoders.ContainsKey(runner.LoadIdentity))
        {
            _encoders.Clear(); // loads of the past (reloaded versions) go; the current ones are read again on their next request
        }

        var versionFolder = Path.GetDirectoryName(models.Repository.ModelFilePath(name, runner.Version, runner.Config.ModelFileName ?? "model.onnx"))!;
        return _encoders.GetOrAdd(runner.LoadIdentity, _ => EncoderModel.Load(versionFolder, Path.GetDirectoryName(versionFolder)!));
    }

    private async Task<(float[] Embedding, InferenceError? Error)> EmbedAsync(EmbeddingBody body, ModelConfig config, IReadOnlyList<int> ids, CancellationToken cancellationToken)
    {
        var output = EncoderModel.TokenOutputs.First(o => config.Outputs.Any(c => c.Name == o));
        long[] shape = config.MaxBatchSize > 0 ? [1, ids.Count] : [ids.Count];
        using var request = new InferenceRequest { ModelName = body.Model };
        foreach (var input in config.Inputs)
        {
            request.Inputs.Add(input.Name switch
            {
                "input_ids" => TokenTensor(input, shape, ids.Select(i => (long)i)),
                "attention_mask" => TokenTensor(input, shape, ids.Select(_ => 1L)),
                _ => TokenTensor(input, shape, ids.Select(_ => 0L)), // token_type_ids: one segment
            });
        }

        request.Outputs.Add(new RequestedOutput(output));
        var result = await inference.InferAsync(request, cancellationToken);
        using var response = result.Response;
        if (result.Error is { } error)
        {
            return ([], error);
        }

        var vectors = response!.Outputs.Single(o => o.Name == output).ToArray<float>();
        return (EncoderModel.Pool(vectors, ids.Count, body.Dimensions), null);
    }

    private static Tensor TokenTensor(TensorConfig input, long[] shape, IEnumerable<long> values) => input.DataType == DataType.Int32
        ? Tensor.FromArray<int>(input.Name, shape, [.. values.Select(v => (int)v)])
        : Tensor.FromArray<long>(input.Name, shape, [.. values]);
}
