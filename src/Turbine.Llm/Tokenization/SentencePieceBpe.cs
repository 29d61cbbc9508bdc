using System.Buffers;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace Turbine.Llm.Tokenization;

/// <summary>
/// A SentencePiece-style BPE tokenizer as Hugging Face's <c>tokenizer.json</c> describes one (Gemma, Llama 2, Mistral's
/// first models): added tokens are split out first; the rest has its spaces replaced by '▁' (and a '▁' prepended where the
/// normalizer says so), is split into characters and merged pair by pair, lowest merge rank first; a piece the
/// vocabulary lacks falls back to its UTF-8 bytes as <c>&lt;0xXX&gt;</c> tokens. Decoding reverses it: '▁' is a space
/// and runs of byte tokens are decoded as UTF-8.
/// </summary>
internal sealed class SentencePieceBpe : Tokenizer
{
    private readonly Dictionary<string, int> _vocabulary;
    private readonly string?[] _pieces;
    private readonly Dictionary<(string, string), int> _ranks;
    private readonly int[] _byteTokens = new int[256];
    private readonly Dictionary<char, List<(string Text, int Id)>> _added = [];
    private readonly string _prefix;
    private readonly bool _stripLeadingSpace;
    private readonly int _unknown;

    public SentencePieceBpe(Dictionary<string, int> vocabulary, List<(string Left, string Right)> merges, IReadOnlyDictionary<string, int> addedTokens, string prefix, bool stripLeadingSpace, int unknown)
    {
        _vocabulary = vocabulary;
        _pieces = new string?[Math.Max(vocabulary.Count == 0 ? 0 : vocabulary.Values.Max() + 1, addedTokens.Count == 0 ? 0 : addedTokens.Values.Max() + 1)];
        foreach (var (piece, id) in vocabulary)
        {
            _pieces[id] = piece;
        }

        foreach (var (text, id) in addedTokens)
        {
            _pieces[id] ??= text;
            if (text.Length > 0)
            {
                (_added.TryGetValue(text[0], out var list) ? list : _added[text[0]] = []).Add((text, id));
            }
        }

        foreach (var list in _added.Values)
        {
            list.Sort((a, b) => b.Text.Length.CompareTo(a.Text.Length)); // the longest added token wins
        }

        _ranks = new Dictionary<(string, string), int>(merges.Count);
        for (var rank = 0; rank < merges.Count; rank++)
        {
            _ranks.TryAdd(merges[rank], rank);
        }

        for (var b = 0; b < 256; b++)
        {
            _byteTokens[b] = vocabulary.TryGetValue($"<0x{b:X2}>", out var id) ? id : -1;
        }

        _prefix = prefix;
        _stripLeadingSpace = stripLeadingSpace;
        _unknown = unknown;
    }

    protected override EncodeResults<EncodedToken> EncodeToTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        var source = text ?? textSpan.ToString();
        var tokens = new List<EncodedToken>();
        var plainStart = 0;
        for (var i = 0; i < source.Length;)
        {
            if (AddedAt(source, i) is { } added)
            {
                Plain(source, plainStart, i, tokens);
                tokens.Add(new EncodedToken(added.Id, added.Text, new Range(i, i + added.Text.Length)));
                i += added.Text.Length;
                plainStart = i;
            }
            else
            {
                i++;
            }
        }

        Plain(source, plainStart, source.Length, tokens);
        return new EncodeResults<EncodedToken> { Tokens = tokens, NormalizedText = null, CharsConsumed = source.Length };
    }

    public override OperationStatus Decode(IEnumerable<int> ids, Span<char> destination, out int idsConsumed, out int charsWritten)
    {
        var text = new StringBuilder();
        var bytes = new List<byte>();
        idsConsumed = 0;
        foreach (var id in ids)
        {
            idsConsumed++;
            var piece = (uint)id < (uint)_pieces.Length ? _pieces[id] : null;
            if (piece is { Length: 6 } && piece.StartsWith("<0x", StringComparison.Ordinal) && piece.EndsWith('>') && byte.TryParse(piece.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out var value))
            {
                bytes.Add(value);
                continue;
            }

            Flush();
            text.Append((piece ?? string.Empty).Replace('▁', ' '));
        }

        Flush();
        var decoded = _stripLeadingSpace && text.Length > 0 && text[0] == ' ' ? text.ToString(1, text.Length - 1) : text.ToString();
        charsWritten = Math.Min(decoded.Length, destination.Length);
        decoded.AsSpan(0, charsWritten).CopyTo(destination);
        return charsWritten == decoded.Length ? OperationStatus.Done : OperationStatus.DestinationTooSmall;

        void Flush()
        {
            if (bytes.Count > 0)
            {
                text.Append(Encoding.UTF8.GetString([.. bytes])); // invalid sequences become U+FFFD, as Hugging Face's ByteFallback does
                bytes.Clear();
            }
        }
    }

    private (string Text, int Id)? AddedAt(string source, int position)
    {
        if (!_added.TryGetValue(source[position], out var candidates))
        {
            return null;
        }

        foreach (var candidate in candidates)
        {
            if (string.CompareOrdinal(source, position, candidate.Text, 0, candidate.Text.Length) == 0)
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Encodes text between added tokens: normalized, merged, looked up (bytes where the vocabulary has no piece).</summary>
    private void Plain(string source, int start, int end, List<EncodedToken> tokens)
    {
        if (end <= start)
        {
            return;
        }

        var normalized = (start == 0 ? _prefix : string.Empty) + source[start..end].Replace(' ', '▁');
        foreach (var piece in Merge(normalized))
        {
            if (_vocabulary.TryGetValue(piece, out var id))
            {
                tokens.Add(new EncodedToken(id, piece, new Range(start, end)));
                continue;
            }

            foreach (var b in Encoding.UTF8.GetBytes(piece))
            {
                var byteId = _byteTokens[b];
                tokens.Add(new EncodedToken(byteId >= 0 ? byteId : _unknown, piece, new Range(start, end)));
            }
        }
    }

    /// <summary>BPE over one text: characters merged pair by pair, the lowest-ranked pair first, left to right among equals.</summary>
    private List<string> Merge(string text)
    {
        var symbols = new List<string>();
        foreach (var rune in text.EnumerateRunes())
        {
            symbols.Add(rune.ToString());
        }

        var next = Enumerable.Range(1, symbols.Count).ToArray();
        var previous = Enumerable.Range(-1, symbols.Count).ToArray();
        var alive = Enumerable.Repeat(true, symbols.Count).ToArray();
        var queue = new PriorityQueue<(int Left, string LeftText, string RightText), (int Rank, int Position)>();
        void Offer(int left)
        {
            var right = left >= 0 && left < symbols.Count ? next[left] : symbols.Count;
            if (left >= 0 && right < symbols.Count && _ranks.TryGetValue((symbols[left], symbols[right]), out var rank))
            {
                queue.Enqueue((left, symbols[left], symbols[right]), (rank, left));
            }
        }

        for (var i = 0; i < symbols.Count; i++)
        {
            Offer(i);
        }

        while (queue.TryDequeue(out var pair, out _))
        {
            var right = next[pair.Left];
            if (!alive[pair.Left] || right >= symbols.Count || symbols[pair.Left] != pair.LeftText || symbols[right] != pair.RightText)
            {
                continue; // a stale pair: one side has merged since
            }

            symbols[pair.Left] = pair.LeftText + pair.RightText;
            alive[right] = false;
            next[pair.Left] = next[right];
            if (next[right] < symbols.Count)
            {
                previous[next[right]] = pair.Left;
            }

            Offer(previous[pair.Left]);
            Offer(pair.Left);
        }

        var pieces = new List<string>();
        for (var i = 0; i < symbols.Count; i = next[i])
        {
            pieces.Add(symbols[i]);
        }

        return pieces;
    }
}
