using System.Text;
using Microsoft.ML.Tokenizers;
using Turbine.Llm.Tokenization;

namespace Turbine.Llm.Tests;

/// <summary>Streaming text from GPT-2's byte-level BPE (the tiktoken data package), whose tokens split multi-byte characters.</summary>
public sealed class StreamingDetokenizerTests
{
    private static readonly Tokenizer Gpt2 = TiktokenTokenizer.CreateForModel("gpt2");

    [Theory]
    [InlineData("Hello, world! How are you today?")]
    [InlineData("naïve café, Ürün, 日本語のテキスト, and emoji 🚀🎉 in one line")]
    [InlineData("  leading spaces and\nnew lines\n\n  with code: { \"a\": [1, 2] }")]
    public void The_pieces_add_up_to_the_text_and_no_piece_holds_a_broken_character(string text)
    {
        var tokens = Gpt2.EncodeToIds(text);
        var stream = new StreamingDetokenizer(Gpt2);
        var pieces = tokens.Select(stream.Add).ToList();

        Assert.Equal(text, string.Concat(pieces));
        Assert.All(pieces, piece => Assert.DoesNotContain('\uFFFD', piece));
        Assert.All(pieces, piece => Assert.True(piece.Length == 0 || !char.IsHighSurrogate(piece[^1]), $"'{piece}' ends inside a surrogate pair"));
    }

    [Fact]
    public void A_character_split_across_tokens_comes_out_whole_once_its_last_token_arrives()
    {
        var tokens = Gpt2.EncodeToIds("🚀");
        Assert.True(tokens.Count > 1, "the test needs a character that byte-level BPE splits");
        var stream = new StreamingDetokenizer(Gpt2);

        var pieces = tokens.Select(stream.Add).ToList();

        Assert.All(pieces.SkipLast(1), piece => Assert.Equal(string.Empty, piece));
        Assert.Equal("🚀", pieces[^1]);
        Assert.Equal(Encoding.UTF8.GetBytes("🚀"), Encoding.UTF8.GetBytes(pieces[^1]));
    }
}
