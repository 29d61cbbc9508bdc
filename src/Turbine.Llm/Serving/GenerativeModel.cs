using Turbine.Llm.Engine;
using Turbine.Llm.Tokenization;

namespace Turbine.Llm.Serving;

/// <summary>
/// One loaded version of a generative model: its decoder under a <see cref="GenerationEngine"/>, its tokenizer, its
/// end-of-text tokens, context length and chat prompt format. Every protocol (OpenAI, KServe v2 and Triton's generate
/// extension) generates through it.
/// </summary>
public sealed class GenerativeModel : IDisposable
{
    /// <summary>The context length of a model whose files name none.</summary>
    private const int DefaultContext = 2048;

    private readonly IDecoderInstance _decoder;
    private readonly Lazy<Constraints.JsonVocabulary> _jsonVocabulary;

    /// <summary>A byte-level vocabulary's entries by id (null for other tokenizers), made on first use.</summary>
    private readonly Lazy<string?[]?> _entries;

    private GenerativeModel(string name, long version, IDecoderInstance decoder, GenerationEngine engine, LoadedTokenizer tokenizer, IReadOnlySet<int> endTokens, int maxContext, ChatPrompt chat)
    {
        Name = name;
        Version = version;
        _decoder = decoder;
        Engine = engine;
        Tokenizer = tokenizer;
        EndTokens = endTokens;
        MaxContext = maxContext;
        Chat = chat;
        Text = new TextGenerator(engine, tokenizer.Tokenizer, endTokens);
        _jsonVocabulary = new(() => new Constraints.JsonVocabulary(tokenizer.Tokenizer, decoder.Spec.Vocabulary, [.. tokenizer.AddedTokens.Values], endTokens));
        _entries = new(() =>
        {
            if (tokenizer.Tokenizer is not Microsoft.ML.Tokenizers.BpeTokenizer { ByteLevel: true } bpe)
            {
                return null;
            }

            var entries = new string?[decoder.Spec.Vocabulary];
            foreach (var (entry, id) in bpe.Vocabulary)
            {
                if ((uint)id < (uint)entries.Length)
                {
                    entries[id] = entry;
                }
            }

            return entries;
        });
    }

    /// <summary>The model's name.</summary>
    public string Name { get; }

    /// <summary>The version loaded.</summary>
    public long Version { get; }

    /// <summary>The engine that schedules its sequences.</summary>
    public GenerationEngine Engine { get; }

    /// <summary>The tokenizer.</summary>
    public LoadedTokenizer Tokenizer { get; }

    /// <summary>Tokens that end a sequence.</summary>
    public IReadOnlySet<int> EndTokens { get; }

    /// <summary>Tokens a sequence may hold, prompt and output together.</summary>
    public int MaxContext { get; }

    /// <summary>The vocabulary prepared for structured outputs, made on first use (a trie of every token's text).</summary>
    public Constraints.JsonVocabulary JsonVocabulary => _jsonVocabulary.Value;

    /// <summary>Token ids the model knows (its logits' width).</summary>
    public int Vocabulary => _decoder.Spec.Vocabulary;

    /// <summary>How tool calls are read from answers; null when the model has no tool format.</summary>
    public Tools.ToolCallParser? ToolCalls { get; private init; }

    /// <summary>How chat messages become the prompt.</summary>
    public ChatPrompt Chat { get; }

    /// <summary>Text in, streamed text out.</summary>
    public TextGenerator Text { get; }

    /// <summary>
    /// Loads the model of a version folder: the decoder (already created by the backend), <c>tokenizer.json</c> and the
    /// configuration files beside it.
    /// </summary>
    /// <exception cref="InferenceException">A file is missing, malformed or unsupported, or the settings do not fit the model.</exception>
    public static GenerativeModel Load(ModelConfig config, long version, string versionFolder, IDecoderInstance decoder, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(decoder);
        var settings = LlmSettings.Of(config);
        var tokenizerPath = Path.Combine(versionFolder, "tokenizer.json");
        if (!File.Exists(tokenizerPath))
        {
            throw new InferenceException("the version folder has no tokenizer.json: a generative model needs its tokenizer beside model.onnx");
        }

        var tokenizer = TokenizerJson.Load(tokenizerPath);
        var files = ModelFolderFiles.Read(versionFolder, tokenizer);
        if (files.EndTokens.Count == 0)
        {
            throw new InferenceException("no end-of-text token is known: give generation_config.json an eos_token_id, or tokenizer_config.json an eos_token");
        }

        var context = settings.MaxContext > 0 ? settings.MaxContext : files.ContextLength ?? DefaultContext;
        GenerationEngine engine;
        try
        {
            engine = new GenerationEngine(decoder, new EngineOptions(settings.KvCacheBytes, settings.BlockTokens, settings.MaxSequences, context), time);
        }
        catch (ArgumentException e)
        {
            throw new InferenceException($"the 'llm' settings do not fit this model: {e.Message}");
        }

        var template = settings.ChatTemplate ?? files.ChatTemplate;
        var chat = ChatPrompt.For(template, files.SpecialTokens, time);
        return new GenerativeModel(config.Name, version, decoder, engine, tokenizer, files.EndTokens, context, chat)
        {
            ToolCalls = Tools.ToolCallParser.For(settings.ToolCallParser, template),
        };
    }

    /// <summary>The tokens of <paramref name="text"/> (special tokens written in it are taken as such).</summary>
    public IReadOnlyList<int> Encode(string text) => Tokenizer.Tokenizer.EncodeToIds(text);

    /// <summary>
    /// A token's raw bytes (a piece of a UTF-8 character included, where its text would be the replacement
    /// character): read back from a byte-level vocabulary, else the UTF-8 of its text.
    /// </summary>
    public byte[] TokenBytes(int token) =>
        _entries.Value is { } entries && (uint)token < (uint)entries.Length && entries[token] is { } entry && ByteLevelAlphabet.ToBytes(entry) is { } raw
            ? raw
            : System.Text.Encoding.UTF8.GetBytes(Decode([token]));

    /// <summary>The text of <paramref name="tokens"/>.</summary>
    public string Decode(IEnumerable<int> tokens) => Tokenizer.Tokenizer.Decode(tokens) ?? string.Empty;

    /// <summary>Stops the engine (failing what still runs) and releases the decoder.</summary>
    public void Dispose()
    {
        Engine.Dispose();
        _decoder.Dispose();
    }
}
