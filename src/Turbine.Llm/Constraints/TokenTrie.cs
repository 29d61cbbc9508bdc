using Microsoft.ML.Tokenizers;

namespace Turbine.Llm.Constraints;

/// <summary>
/// A model's vocabulary as text, in a trie, so that all the tokens that may follow a state are found by walking the
/// trie once with the state (a branch the state refuses is left whole) instead of trying every token. Tokens that are
/// part of a character (byte-level pieces of UTF-8) and special tokens are kept apart. Built once per model.
/// </summary>
internal sealed class TokenTrie
{
    private readonly Node _root = new();
    private readonly Node _markup = new();
    private readonly int[] _plainText;

    public TokenTrie(Tokenizer tokenizer, int vocabulary, IReadOnlyCollection<int> special)
    {
        var partial = new List<int>();
        var plain = new List<int>();
        for (var id = 0; id < vocabulary; id++)
        {
            if (special.Contains(id))
            {
                continue;
            }

            var text = tokenizer.Decode([id]);
            if (string.IsNullOrEmpty(text))
            {
                continue;
            }

            if (text.Contains('\uFFFD', StringComparison.Ordinal))
            {
                partial.Add(id); // a piece of a multi-byte character: only free text takes it
                continue;
            }

            Add(_root, text, id);
            if (text.Any(c => c is '"' or '\\' or < ' '))
            {
                Add(_markup, text, id); // ends a string, escapes, or cannot be in one: walked even inside free text
            }
            else
            {
                plain.Add(id);
            }
        }

        _partialTokens = [.. partial];
        _plainText = [.. plain];
    }

    private readonly int[] _partialTokens;

    /// <summary>
    /// Marks in <paramref name="allowed"/> every token whose whole text <paramref name="state"/> accepts. Inside free text
    /// (most of a JSON answer's tokens) every plain token fits as it is, so only the tokens that could end the string
    /// are walked: a step costs microseconds there instead of a walk of the whole vocabulary.
    /// </summary>
    public void Allowed(Frame state, Span<bool> allowed)
    {
        if (!state.TakesFreeText)
        {
            Walk(_root, state, allowed);
            return;
        }

        foreach (var token in _plainText)
        {
            allowed[token] = true;
        }

        foreach (var token in _partialTokens)
        {
            allowed[token] = true;
        }

        Walk(_markup, state, allowed);
    }

    private static void Add(Node root, string text, int id)
    {
        var node = root;
        foreach (var c in text)
        {
            node = node.Children.TryGetValue(c, out var child) ? child : node.Children[c] = new Node();
        }

        node.Tokens.Add(id);
    }

    private static void Walk(Node node, Frame state, Span<bool> allowed)
    {
        foreach (var token in node.Tokens)
        {
            allowed[token] = true;
        }

        foreach (var (c, child) in node.Children)
        {
            if (state.Advance(c) is { } next)
            {
                Walk(child, next, allowed);
            }
        }
    }

    /// <summary>The state after a token's text, or null when it does not fit.</summary>
    public static Frame? Feed(Frame state, string text)
    {
        Frame? current = state;
        foreach (var c in text)
        {
            current = current?.Advance(c);
        }

        return current;
    }

    private sealed class Node
    {
        public Dictionary<char, Node> Children { get; } = [];

        public List<int> Tokens { get; } = [];
    }
}
