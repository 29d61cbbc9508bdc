using Microsoft.ML.Tokenizers;
using Turbine.Llm.Engine;
using Turbine.Llm.Sampling;
using Turbine.Onnx;
using Turbine.Onnx.Tools.Samples;

namespace Turbine.Llm.Tests;

/// <summary>Text over the engine with the real GPT-2 tokenizer and a generated decoder of its vocabulary.</summary>
public sealed class TextGeneratorTests : IDisposable
{
    private static readonly Tokenizer Gpt2 = TiktokenTokenizer.CreateForModel("gpt2");
    private static readonly Lazy<byte[]> Model = new(() => DecoderModel.Build(new DecoderShape(Vocabulary: 50_257, Width: 32, Layers: 2, Heads: 4, Context: 256)));
    private readonly OnnxDecoderInstance _decoder = OnnxDecoderInstance.Load(Model.Value);
    private readonly GenerationEngine _engine;
    private readonly TextGenerator _text;

    public TextGeneratorTests()
    {
        _engine = new GenerationEngine(_decoder, new EngineOptions(BlockTokens: 8, MaxContext: 256));
        _text = new TextGenerator(_engine, Gpt2, new HashSet<int> { 50_256 });
    }

    private async Task<List<TextDelta>> RunAsync(string prompt, int maxTokens, params string[] stop)
    {
        var deltas = new List<TextDelta>();
        await foreach (var delta in _text.StreamAsync(_text.Tokenize(prompt), new TextOptions(maxTokens, stop, SamplingParameters.Greedy), CancellationToken.None))
        {
            deltas.Add(delta);
        }

        return deltas;
    }

    [Fact]
    public async Task The_streamed_pieces_are_the_decoded_tokens_and_the_last_says_why_it_ended()
    {
        var deltas = await RunAsync("The quick brown fox", 16);
        var tokens = new List<int>();
        await foreach (var token in _engine.Submit(new GenerationRequest(_text.Tokenize("The quick brown fox"), SamplingParameters.Greedy, 16, new HashSet<int> { 50_256 }), CancellationToken.None).ReadAllAsync())
        {
            tokens.Add(token.Token);
        }

        Assert.Equal(Gpt2.Decode(tokens.Where(t => t != 50_256)), string.Concat(deltas.Select(d => d.Text)));
        Assert.All(deltas.SkipLast(1), d => Assert.Null(d.Finish));
        Assert.NotNull(deltas[^1].Finish);
        Assert.Equal(tokens.Count, deltas[^1].CompletionTokens);
    }

    [Fact]
    public async Task A_stop_string_ends_the_text_before_it_even_across_tokens_and_is_never_sent()
    {
        var full = string.Concat((await RunAsync("Once upon a time", 40)).Select(d => d.Text));
        Assert.True(full.Length > 12, $"the model should say something: '{full}'");
        var stop = full.Substring(full.Length / 2, 3); // somewhere in the middle, likely across a token boundary
        var expected = full[..full.IndexOf(stop, StringComparison.Ordinal)];

        var deltas = await RunAsync("Once upon a time", 40, stop, "a string that never appears");

        Assert.Equal(expected, string.Concat(deltas.Select(d => d.Text)));
        Assert.Equal(FinishReason.Stop, deltas[^1].Finish);
        Assert.DoesNotContain(deltas, d => d.Text.Contains(stop, StringComparison.Ordinal));
        Assert.Equal(0, _engine.Blocks.Usage, 6); // the engine dropped the sequence once the stop string appeared
    }

    public void Dispose()
    {
        _engine.Dispose();
        _decoder.Dispose();
    }
}
