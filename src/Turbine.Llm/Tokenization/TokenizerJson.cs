using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace Turbine.Llm.Tokenization;

/// <summary>
/// Reads a Hugging Face <c>tokenizer.json</c> (the tokenizers library's own format, beside every exported model) into a
/// Microsoft.ML.Tokenizers tokenizer. Byte-level BPE models (GPT-2, Qwen, Llama 3 and most decoders: the vocabulary,
/// the merges as "a b" strings or as pairs, the added tokens (special ones matched whole before any splitting), the
/// pre-tokenizer's split pattern) and SentencePiece-style BPE models (Gemma, Llama 2: spaces written as '▁', byte
/// fallback; <see cref="SentencePieceBpe"/>) are read. Anything else is refused with what was found, never guessed.
/// </summary>
public static class TokenizerJson
{
    /// <summary>The pattern of a byte-level pre-tokenizer with <c>use_regex</c>, as GPT-2 splits words.</summary>
    private const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>Largest tokenizer.json read: the biggest vocabularies (Gemma's 262k) take about 35 MB.</summary>
    private const long MaxBytes = 128L << 20;

    /// <summary>Loads the tokenizer of <paramref name="path"/>.</summary>
    /// <exception cref="InferenceException">The file is not a tokenizer this reader supports, or is malformed.</exception>
    public static LoadedTokenizer Load(string path)
    {
        var info = new FileInfo(path);
        if (info.Length > MaxBytes)
        {
            throw new InferenceException($"tokenizer.json is {info.Length} bytes, more than the {MaxBytes} a tokenizer may take");
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { MaxDepth = 64 });
            return Read(document.RootElement);
        }
        catch (JsonException e)
        {
            throw new InferenceException($"tokenizer.json is not valid JSON: {e.Message}");
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new InferenceException($"tokenizer.json cannot be read: {e.Message}");
        }
    }

    /// <summary>Reads a tokenizer.json document.</summary>
    /// <exception cref="InferenceException">The tokenizer is not one this reader supports.</exception>
    public static LoadedTokenizer Read(JsonElement root)
    {
        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
        {
            throw new InferenceException("tokenizer.json has no 'model' object");
        }

        var type = model.TryGetProperty("type", out var kind) ? kind.GetString() : null;
        if (type != "BPE")
        {
            throw new InferenceException($"tokenizer.json holds a '{ClientText.Quote(type ?? "(none)")}' model; byte-level BPE models are supported");
        }

        if (SentencePiecePrefix(root) is { } prefix)
        {
            var merges = Merges(model).Select(m => m.Split(' ', 2)).Select(p => (p[0], p.Length > 1 ? p[1] : string.Empty)).ToList();
            var vocabulary = Vocabulary(model).ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
            var added = AddedTokens(root, specialOnly: false);
            var unknown = model.TryGetProperty("unk_token", out var unk) && unk.GetString() is { } u && vocabulary.TryGetValue(u, out var id) ? id : 0;
            return new LoadedTokenizer(new SentencePieceBpe(vocabulary, merges, added, prefix, StripsLeadingSpace(root), unknown), added);
        }

        var special = AddedTokens(root, specialOnly: true);
        var pattern = SplitPattern(root);
        var options = new BpeOptions(Vocabulary(model))
        {
            Merges = Merges(model),
            SpecialTokens = special.Count == 0 ? null : special,
            ByteLevel = true,
            PreTokenizer = new RegexPreTokenizer(new Regex(pattern, RegexOptions.Compiled, TimeSpan.FromSeconds(1)), special.Count == 0 ? null : special),
        };
        return new LoadedTokenizer(BpeTokenizer.Create(options), AddedTokens(root, specialOnly: false));
    }

    private static List<KeyValuePair<string, int>> Vocabulary(JsonElement model)
    {
        if (!model.TryGetProperty("vocab", out var vocab) || vocab.ValueKind != JsonValueKind.Object)
        {
            throw new InferenceException("tokenizer.json's model has no 'vocab' object");
        }

        var entries = new List<KeyValuePair<string, int>>();
        foreach (var entry in vocab.EnumerateObject())
        {
            entries.Add(new(entry.Name, entry.Value.GetInt32()));
        }

        return entries;
    }

    /// <summary>The merges as "left right" lines, whether the file writes them so or as pairs (newer files do).</summary>
    private static List<string> Merges(JsonElement model)
    {
        var merges = new List<string>();
        if (!model.TryGetProperty("merges", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            return merges;
        }

        foreach (var merge in list.EnumerateArray())
        {
            merges.Add(merge.ValueKind == JsonValueKind.Array ? $"{merge[0].GetString()} {merge[1].GetString()}" : merge.GetString()!);
        }

        return merges;
    }

    /// <summary>The added tokens by content; with <paramref name="specialOnly"/>, only those marked special.</summary>
    private static Dictionary<string, int> AddedTokens(JsonElement root, bool specialOnly)
    {
        var tokens = new Dictionary<string, int>(StringComparer.Ordinal);
        if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
        {
            foreach (var token in added.EnumerateArray())
            {
                var isSpecial = token.TryGetProperty("special", out var flag) && flag.ValueKind == JsonValueKind.True;
                if (!specialOnly || isSpecial)
                {
                    tokens[token.GetProperty("content").GetString()!] = token.GetProperty("id").GetInt32();
                }
            }
        }

        return tokens;
    }

    /// <summary>
    /// For a SentencePiece-style BPE (its normalizer writes spaces as '▁'): the text put before the first piece ("▁" when
    /// the normalizer prepends one, Llama 2's way; empty for Gemma's); null for any other normalizer.
    /// </summary>
    private static string? SentencePiecePrefix(JsonElement root)
    {
        if (!root.TryGetProperty("normalizer", out var normalizer) || normalizer.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var steps = normalizer.TryGetProperty("type", out var type) && type.GetString() == "Sequence" && normalizer.TryGetProperty("normalizers", out var list)
            ? [.. list.EnumerateArray()]
            : (JsonElement[])[normalizer];
        var replaces = false;
        var prefix = string.Empty;
        foreach (var step in steps)
        {
            switch (step.TryGetProperty("type", out var kind) ? kind.GetString() : null)
            {
                case "Replace" when step.TryGetProperty("pattern", out var pattern) && pattern.TryGetProperty("String", out var from) && from.GetString() == " "
                    && step.TryGetProperty("content", out var to) && to.GetString() == "\u2581":
                    replaces = true;
                    break;
                case "Prepend" when step.TryGetProperty("prepend", out var prepended):
                    prefix = prepended.GetString() ?? string.Empty;
                    break;
                default:
                    return null;
            }
        }

        return replaces ? prefix : null;
    }

    /// <summary>Whether the decoder strips the space the prepended '▁' becomes (Llama 2's <c>Strip</c> step).</summary>
    private static bool StripsLeadingSpace(JsonElement root) =>
        root.TryGetProperty("decoder", out var decoder) && decoder.TryGetProperty("decoders", out var steps) && steps.ValueKind == JsonValueKind.Array
        && steps.EnumerateArray().Any(s => s.TryGetProperty("type", out var t) && t.GetString() == "Strip" && s.TryGetProperty("start", out var start) && start.GetInt32() > 0);

    /// <summary>
    /// The word-splitting pattern: a <c>Split</c> pre-tokenizer's regex (Qwen, Llama 3), or GPT-2's for a
    /// <c>ByteLevel</c> one that splits by itself.
    /// </summary>
    private static string SplitPattern(JsonElement root)
    {
        if (!root.TryGetProperty("pre_tokenizer", out var pre) || pre.ValueKind != JsonValueKind.Object)
        {
            throw new InferenceException("tokenizer.json has no pre_tokenizer: byte-level BPE needs one");
        }

        var steps = Steps(pre);
        if (!steps.Any(step => step.TryGetProperty("type", out var type) && type.GetString() == "ByteLevel"))
        {
            throw new InferenceException("tokenizer.json's BPE model is not byte-level (no ByteLevel pre-tokenizer; SentencePiece-style models such as Gemma's are not read yet); byte-level BPE models are supported");
        }

        string? pattern = null;
        var byteLevel = false;
        foreach (var step in steps)
        {
            switch (step.TryGetProperty("type", out var type) ? type.GetString() : null)
            {
                case "Split" when step.TryGetProperty("pattern", out var split) && split.TryGetProperty("Regex", out var regex):
                    pattern ??= regex.GetString();
                    break;
                case "ByteLevel":
                    byteLevel = true;
                    if (pattern is null && (!step.TryGetProperty("use_regex", out var splits) || splits.ValueKind != JsonValueKind.False))
                    {
                        pattern = Gpt2Pattern;
                    }

                    break;
                case var other:
                    throw new InferenceException($"tokenizer.json's pre-tokenizer '{ClientText.Quote(other ?? "(none)")}' is not supported (Split and ByteLevel are)");
            }
        }

        if (!byteLevel || pattern is null)
        {
            throw new InferenceException("tokenizer.json's BPE model is not byte-level (no ByteLevel pre-tokenizer); byte-level BPE models are supported");
        }

        return pattern;
    }

    private static List<JsonElement> Steps(JsonElement pre) =>
        pre.TryGetProperty("type", out var type) && type.GetString() == "Sequence" && pre.TryGetProperty("pretokenizers", out var steps)
            ? [.. steps.EnumerateArray()]
            : [pre];
}

/// <summary>A tokenizer read from a model folder, with the added tokens (special or not) by their text.</summary>
/// <param name="Tokenizer">Encodes and decodes.</param>
/// <param name="AddedTokens">Tokens the file adds beside the vocabulary (end of text, chat markers), by content.</param>
public sealed record LoadedTokenizer(Tokenizer Tokenizer, IReadOnlyDictionary<string, int> AddedTokens);
