using Microsoft.ML.Tokenizers;

namespace Turbine.Llm.Tokenization;

/// <summary>
/// Turns one sequence's tokens into text as they come, for streaming: each call returns only the text the new tokens
/// complete. A token that ends inside a multi-byte character (byte-level BPE splits them) yields nothing until the
/// character is whole, so a stream never carries a broken character. New tokens are decoded together with the tokens
/// of the previous piece, as vLLM does: tokenizers that join pieces with spaces need that left context to render a
/// piece right.
/// </summary>
public sealed class StreamingDetokenizer(Tokenizer tokenizer)
{
    private readonly List<int> _tokens = [];
    private int _prefixOffset;
    private int _readOffset;

    /// <summary>All tokens added so far.</summary>
    public IReadOnlyList<int> Tokens => _tokens;

    /// <summary>Adds a token; the text it completes (empty while a character is still partial).</summary>
    public string Add(int token)
    {
        _tokens.Add(token);
        var prefix = tokenizer.Decode(_tokens.GetRange(_prefixOffset, _readOffset - _prefixOffset));
        var text = tokenizer.Decode(_tokens.GetRange(_prefixOffset, _tokens.Count - _prefixOffset));
        if (text.Length <= prefix.Length || text.EndsWith('\uFFFD'))
        {
            return string.Empty;
        }

        _prefixOffset = _readOffset;
        _readOffset = _tokens.Count;
        return text[prefix.Length..];
    }
}
