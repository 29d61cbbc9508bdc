using System.Numerics.Tensors;
using System.Text;
using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace Turbine.Llm.Embeddings;

/// <summary>
/// A BERT-style sentence encoder served as an embedding model: its WordPiece tokenizer (<c>vocab.txt</c>, or a
/// <c>tokenizer.json</c> whose model is WordPiece, in the version folder or the model folder) and the pooling
/// sentence-transformers applies (the mean of <c>last_hidden_state</c> over the real tokens, then unit length). The
/// model itself runs as any other, through the batcher.
/// </summary>
public sealed class EncoderModel
{
    /// <summary>The outputs an encoder's token vectors come out of, in order of preference.</summary>
    public static readonly string[] TokenOutputs = ["last_hidden_state", "token_embeddings"];

    private EncoderModel(BertTokenizer tokenizer, int maxTokens)
    {
        Tokenizer = tokenizer;
        MaxTokens = maxTokens;
    }

    /// <summary>The WordPiece tokenizer.</summary>
    public BertTokenizer Tokenizer { get; }

    /// <summary>Tokens one input may take, [CLS] and [SEP] included (the model's positions).</summary>
    public int MaxTokens { get; }

    /// <summary>Whether a model takes token ids and a mask and gives token vectors: the shape of an encoder.</summary>
    public static bool IsEncoder(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.Inputs.Any(i => i.Name == "input_ids") && config.Inputs.Any(i => i.Name == "attention_mask")
            && config.Outputs.Any(o => TokenOutputs.Contains(o.Name));
    }

    /// <summary>The encoder's tokenizer from its folders; null when neither folder holds one.</summary>
    /// <exception cref="InferenceException">A tokenizer file is there but cannot be read.</exception>
    public static EncoderModel? Load(string versionFolder, string modelFolder)
    {
        foreach (var folder in (string[])[versionFolder, modelFolder])
        {
            var lowerCase = LowerCase(folder);
            var maxTokens = MaxPositions(folder) ?? 512;
            var vocabulary = Path.Combine(folder, "vocab.txt");
            if (File.Exists(vocabulary))
            {
                return new EncoderModel(BertTokenizer.Create(vocabulary, new BertOptions { LowerCaseBeforeTokenization = lowerCase }), maxTokens);
            }

            var json = Path.Combine(folder, "tokenizer.json");
            if (File.Exists(json))
            {
                using var lines = WordPieceVocabulary(json);
                return new EncoderModel(BertTokenizer.Create(lines, new BertOptions { LowerCaseBeforeTokenization = lowerCase }), maxTokens);
            }
        }

        return null;
    }

    /// <summary>The input ids of <paramref name="text"/>, [CLS] and [SEP] included.</summary>
    public IReadOnlyList<int> Encode(string text) => Tokenizer.EncodeToIds(text);

    /// <summary>
    /// The embedding of one input: the mean of its token vectors (<paramref name="tokenVectors"/>: [tokens, width], every
    /// token real), scaled to unit length, and cut to <paramref name="dimensions"/> first when asked (renormalized), as
    /// OpenAI's <c>dimensions</c> shortens an embedding.
    /// </summary>
    public static float[] Pool(ReadOnlySpan<float> tokenVectors, int tokens, int? dimensions = null)
    {
        var width = tokenVectors.Length / tokens;
        var sum = new float[width];
        for (var t = 0; t < tokens; t++)
        {
            TensorPrimitives.Add(sum, tokenVectors.Slice(t * width, width), sum);
        }

        var embedding = dimensions is { } cut && cut < width ? sum[..cut] : sum;
        var norm = TensorPrimitives.Norm(embedding);
        TensorPrimitives.Divide(embedding, norm > 0 ? norm : 1, embedding);
        return embedding;
    }

    private static bool LowerCase(string folder)
    {
        var path = Path.Combine(folder, "tokenizer_config.json");
        if (!File.Exists(path))
        {
            return true; // uncased BERT vocabularies (MiniLM's) are the common case
        }

        using var config = Parse(path);
        return !config.RootElement.TryGetProperty("do_lower_case", out var flag) || flag.ValueKind != JsonValueKind.False;
    }

    private static int? MaxPositions(string folder)
    {
        var path = Path.Combine(folder, "config.json");
        if (!File.Exists(path))
        {
            return null;
        }

        using var config = Parse(path);
        return config.RootElement.TryGetProperty("max_position_embeddings", out var value) && value.TryGetInt32(out var positions) && positions > 2 ? positions : null;
    }

    /// <summary>A WordPiece tokenizer.json's vocabulary as vocab.txt lines (one token per line, in id order).</summary>
    private static MemoryStream WordPieceVocabulary(string path)
    {
        using var document = Parse(path);
        if (!document.RootElement.TryGetProperty("model", out var model) || !model.TryGetProperty("type", out var type) || type.GetString() != "WordPiece"
            || !model.TryGetProperty("vocab", out var vocab) || vocab.ValueKind != JsonValueKind.Object)
        {
            throw new InferenceException("the encoder's tokenizer.json is not a WordPiece tokenizer (BERT-style encoders use one)");
        }

        var text = new StringBuilder();
        foreach (var token in vocab.EnumerateObject().OrderBy(t => t.Value.GetInt32()))
        {
            text.Append(token.Name).Append('\n');
        }

        return new MemoryStream(Encoding.UTF8.GetBytes(text.ToString()));
    }

    private static JsonDocument Parse(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new InferenceException($"{Path.GetFileName(path)} is not valid JSON: {e.Message}");
        }
    }
}
