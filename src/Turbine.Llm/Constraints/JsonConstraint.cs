using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace Turbine.Llm.Constraints;

/// <summary>
/// Structured output (<c>response_format</c>): the sequence's text must be JSON of a shape (any object for
/// <c>json_object</c>, the schema's for <c>json_schema</c>). Before each draw every token that cannot continue such a
/// text is masked; once the text is complete only the end-of-text tokens remain, so the answer ends there.
/// </summary>
public sealed class JsonConstraint : ITokenConstraint
{
    private readonly TokenTrie _trie;
    private readonly Tokenizer _tokenizer;
    private readonly IReadOnlySet<int> _endTokens;
    private Frame _state;
    private bool[] _allowed = [];

    private JsonConstraint(JsonShape shape, TokenTrie trie, Tokenizer tokenizer, IReadOnlySet<int> endTokens)
        : this(new ValueFrame(shape, null), trie, tokenizer, endTokens)
    {
    }

    private JsonConstraint(Frame start, TokenTrie trie, Tokenizer tokenizer, IReadOnlySet<int> endTokens)
    {
        _state = start;
        _trie = trie;
        _tokenizer = tokenizer;
        _endTokens = endTokens;
    }

    /// <summary>Whether the text so far is complete JSON of the shape.</summary>
    public bool IsComplete => _state.IsComplete;

    /// <summary>A constraint for any JSON object (<c>json_object</c>).</summary>
    public static JsonConstraint ForObject(JsonVocabulary vocabulary) =>
        new(new ObjectShape([], Open: true), vocabulary.Trie, vocabulary.Tokenizer, vocabulary.EndTokens);

    /// <summary>A constraint for JSON matching <paramref name="schema"/> (<c>json_schema</c>).</summary>
    /// <exception cref="JsonSchemaException">The schema uses what cannot be enforced, or is malformed.</exception>
    public static JsonConstraint ForSchema(JsonElement schema, JsonVocabulary vocabulary) =>
        new(JsonSchemaCompiler.Compile(schema), vocabulary.Trie, vocabulary.Tokenizer, vocabulary.EndTokens);

    /// <summary>
    /// A constraint for one function call written in a tool-call format: <paramref name="prefix"/>, then the object
    /// <c>{"name": one of <paramref name="names"/>, <paramref name="argumentsKey"/>: arguments}</c>, then
    /// <paramref name="suffix"/>. The arguments follow <paramref name="parameters"/> when given (one function), else any object.
    /// </summary>
    /// <exception cref="JsonSchemaException">The parameters' schema cannot be enforced.</exception>
    public static JsonConstraint ForCall(string prefix, IReadOnlyList<string> names, string argumentsKey, JsonElement? parameters, string suffix, JsonVocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(vocabulary);
        var arguments = parameters is { ValueKind: JsonValueKind.Object } schema ? JsonSchemaCompiler.Compile(schema) : new ObjectShape([], Open: true);
        var call = new ObjectShape([new PropertyShape("name", new StringShape(names), Required: true), new PropertyShape(argumentsKey, arguments, Required: true)], Open: false);
        Frame Value() => new ValueFrame(call, new SuffixFrame(suffix));
        var start = prefix.Length == 0 ? Value() : new FixedTextFrame(prefix, 0, Value);
        return new JsonConstraint(start, vocabulary.Trie, vocabulary.Tokenizer, vocabulary.EndTokens);
    }

    /// <summary>Checks a schema can be enforced, without a vocabulary (for refusing a request before it runs).</summary>
    /// <exception cref="JsonSchemaException">The schema uses what cannot be enforced, or is malformed.</exception>
    public static void Check(JsonElement schema) => JsonSchemaCompiler.Compile(schema);

    public void Mask(Span<float> logits)
    {
        if (_allowed.Length != logits.Length)
        {
            _allowed = new bool[logits.Length];
        }

        var allowed = _allowed.AsSpan();
        allowed.Clear();
        if (_state.IsComplete)
        {
            AllowEnds(allowed);
        }
        else
        {
            _trie.Allowed(_state, allowed);

            if (_state.CanEnd)
            {
                AllowEnds(allowed); // a top-level number may end here
            }

            if (allowed.IndexOf(true) < 0)
            {
                AllowEnds(allowed); // nothing fits (the vocabulary lacks a character the shape needs): end rather than write invalid text
            }
        }

        for (var i = 0; i < logits.Length; i++)
        {
            if (!allowed[i])
            {
                logits[i] = float.NegativeInfinity;
            }
        }
    }

    public void Accept(int token)
    {
        if (_endTokens.Contains(token))
        {
            return;
        }

        var text = _tokenizer.Decode([token]) ?? string.Empty;
        if (text.Contains('\uFFFD', StringComparison.Ordinal))
        {
            return; // part of a character inside free text: the string state does not change
        }

        _state = TokenTrie.Feed(_state, text) ?? _state;
    }

    private void AllowEnds(Span<bool> allowed)
    {
        foreach (var token in _endTokens)
        {
            if ((uint)token < (uint)allowed.Length)
            {
                allowed[token] = true;
            }
        }
    }
}

/// <summary>A model's vocabulary prepared for structured outputs: its tokens in a trie, its tokenizer and end tokens. Built once per model, on first use.</summary>
public sealed class JsonVocabulary
{
    internal JsonVocabulary(Tokenizer tokenizer, int vocabulary, IReadOnlyCollection<int> special, IReadOnlySet<int> endTokens)
    {
        Tokenizer = tokenizer;
        EndTokens = endTokens;
        Trie = new TokenTrie(tokenizer, vocabulary, special);
    }

    internal TokenTrie Trie { get; }

    internal Tokenizer Tokenizer { get; }

    internal IReadOnlySet<int> EndTokens { get; }
}
