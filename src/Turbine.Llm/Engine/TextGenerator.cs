using System.Runtime.CompilerServices;
using Microsoft.ML.Tokenizers;
using Turbine.Llm.Sampling;
using Turbine.Llm.Tokenization;

namespace Turbine.Llm.Engine;

/// <summary>A piece of generated text, as a stream sends it; the last one carries why the text ended.</summary>
/// <param name="Text">The new text (possibly empty on the last piece).</param>
/// <param name="Finish">Set on the last piece.</param>
/// <param name="CompletionTokens">Tokens generated so far.</param>
public sealed record TextDelta(string Text, FinishReason? Finish, int CompletionTokens)
{
    /// <summary>The tokens drawn since the previous piece (end tokens left out), with their log probabilities when asked for.</summary>
    public IReadOnlyList<SampledToken> Tokens { get; init; } = [];
}

/// <summary>What a text completion asks for, beyond the sampling.</summary>
/// <param name="MaxTokens">Tokens to generate at most.</param>
/// <param name="Stop">Strings that end the text; the text stops before the first one that appears, which is not sent.</param>
/// <param name="Sampling">How each token is drawn.</param>
public sealed record TextOptions(int MaxTokens, IReadOnlyList<string> Stop, SamplingParameters Sampling)
{
    /// <summary>Makes the constraint of one generation (structured outputs); null for none.</summary>
    public Func<Constraints.ITokenConstraint>? Constraint { get; init; }

    /// <summary>Tokens that end the text besides the model's end-of-text tokens (vLLM's <c>stop_token_ids</c>); never part of the text.</summary>
    public IReadOnlySet<int> StopTokens { get; init; } = new HashSet<int>();
}

/// <summary>
/// Text in, text out over a <see cref="GenerationEngine"/>: the prompt is tokenized, tokens are turned back into text as
/// they come (never splitting a character), and stop strings end the text as soon as one appears, even across tokens:
/// text that could be the start of a stop string is held back until it is known not to be, and a stop ends the
/// sequence in the engine at once, freeing its cache.
/// </summary>
public sealed class TextGenerator(GenerationEngine engine, Tokenizer tokenizer, IReadOnlySet<int> endTokens)
{
    /// <summary>The tokenizer's ids for <paramref name="text"/>.</summary>
    public IReadOnlyList<int> Tokenize(string text) => tokenizer.EncodeToIds(text);

    /// <summary>Generates from <paramref name="prompt"/> (tokens), streaming the text.</summary>
    public async IAsyncEnumerable<TextDelta> StreamAsync(IReadOnlyList<int> prompt, TextOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var ends = options.StopTokens.Count == 0 ? endTokens : new HashSet<int>(endTokens.Concat(options.StopTokens));
        var request = new GenerationRequest(prompt, options.Sampling, options.MaxTokens, ends) { Constraint = options.Constraint?.Invoke() };
        var reader = engine.Submit(request, stop.Token);
        var detokenizer = new StreamingDetokenizer(tokenizer);
        var held = string.Empty;
        var drawn = new List<SampledToken>();
        var generated = 0;
        await foreach (var token in reader.ReadAllAsync(cancellationToken))
        {
            generated++;
            var isEnd = ends.Contains(token.Token);
            if (!isEnd)
            {
                drawn.Add(token.Sampled);
            }

            var text = held + (isEnd ? string.Empty : detokenizer.Add(token.Token));
            if (StopAt(text, options.Stop) is { } cut)
            {
                await EndAsync(stop, reader);
                yield return new TextDelta(text[..cut], FinishReason.Stop, generated) { Tokens = drawn };
                yield break;
            }

            if (token.Finish is { } finish)
            {
                yield return new TextDelta(text, finish, generated) { Tokens = drawn };
                yield break;
            }

            var keep = PossibleStopStart(text, options.Stop);
            held = text[keep..];
            if (keep > 0)
            {
                yield return new TextDelta(text[..keep], null, generated) { Tokens = drawn };
                drawn = [];
            }
        }
    }

    /// <summary>Ends the sequence in the engine and waits until it has left (its cache freed), dropping what it made meanwhile.</summary>
    private static async Task EndAsync(CancellationTokenSource stop, System.Threading.Channels.ChannelReader<GeneratedToken> reader)
    {
        await stop.CancelAsync();
        try
        {
            await foreach (var _ in reader.ReadAllAsync(CancellationToken.None))
            {
            }
        }
        catch (OperationCanceledException)
        {
            // How the engine says it dropped the sequence.
        }
    }

    /// <summary>Where the first stop string starts in <paramref name="text"/>; null when none is in it.</summary>
    private static int? StopAt(string text, IReadOnlyList<string> stops)
    {
        int? first = null;
        foreach (var stop in stops)
        {
            var at = text.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (first is null || at < first))
            {
                first = at;
            }
        }

        return first;
    }

    /// <summary>The length of text safe to send: all of it but the longest end that begins some stop string.</summary>
    private static int PossibleStopStart(string text, IReadOnlyList<string> stops)
    {
        var safe = text.Length;
        foreach (var stop in stops)
        {
            for (var length = Math.Min(stop.Length - 1, text.Length); length > 0; length--)
            {
                if (text.AsSpan(text.Length - length).SequenceEqual(stop.AsSpan(0, length)))
                {
                    safe = Math.Min(safe, text.Length - length);
                    break;
                }
            }
        }

        return safe;
    }
}
