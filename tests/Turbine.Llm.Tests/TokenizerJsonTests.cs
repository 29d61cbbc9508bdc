using Microsoft.ML.Tokenizers;
using Turbine.Llm.Tokenization;
using Turbine.Onnx.Tools.Samples;

namespace Turbine.Llm.Tests;

public sealed class TokenizerJsonTests : IDisposable
{
    private static readonly Tokenizer Tiktoken = TiktokenTokenizer.CreateForModel("gpt2");
    private readonly string _folder = Directory.CreateTempSubdirectory("turbine-tokenizer-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("Hello, world! The quick brown fox jumps over the lazy dog.")]
    [InlineData("  leading spaces, tabs\tand\nnew lines\n\n   and trailing   ")]
    [InlineData("Numbers 1234567 and 3.14159, contractions: it's, we'll, they're, I'd")]
    [InlineData("Ünïcödé: naïve café, 日本語のテキスト, emoji 🚀🔥, Ελληνικά")]
    [InlineData("code: for (var i = 0; i < n; i++) { sum += a[i] * b[i]; }")]
    [InlineData("before<|endoftext|>after")]
    public void A_byte_level_bpe_tokenizer_json_encodes_and_decodes_as_the_tokenizer_it_was_written_from(string text)
    {
        Gpt2TokenizerFiles.Write(_folder);
        var loaded = TokenizerJson.Load(Path.Combine(_folder, "tokenizer.json"));

        var ids = loaded.Tokenizer.EncodeToIds(text);
        Assert.Equal(Tiktoken.EncodeToIds(text), ids);
        Assert.Equal(text, loaded.Tokenizer.Decode(ids));
        Assert.Equal(Gpt2TokenizerFiles.EndOfTextId, loaded.AddedTokens[Gpt2TokenizerFiles.EndOfText]);
    }

    [Fact]
    public void A_byte_level_vocabulary_entry_reads_back_as_its_raw_bytes()
    {
        Assert.Equal(" hello"u8.ToArray(), ByteLevelAlphabet.ToBytes("Ġhello"));
        var rocket = "🚀"u8.ToArray();
        var piece = string.Concat(rocket[..2].Select(ByteLevelAlphabet.ToChar)); // half of a character, as a vocabulary writes it
        Assert.Equal(rocket[..2], ByteLevelAlphabet.ToBytes(piece));
        Assert.Null(ByteLevelAlphabet.ToBytes("日")); // not in the table: not a byte-level entry
    }

    [Theory]
    [InlineData("""{"model":{"type":"Unigram","vocab":[]}}""", "'Unigram' model")]
    [InlineData("""{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"Metaspace"}}""", "not byte-level")]
    [InlineData("""{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"Split","pattern":{"Regex":"\\s"}}}""", "not byte-level")]
    [InlineData("""{"version":"1.0"}""", "no 'model' object")]
    [InlineData("""{"model":""", "not valid JSON")]
    public void A_tokenizer_it_cannot_read_is_refused_with_what_was_found(string json, string expected)
    {
        var path = Path.Combine(_folder, "tokenizer.json");
        File.WriteAllText(path, json);
        var error = Assert.Throws<InferenceException>(() => TokenizerJson.Load(path));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
