using Microsoft.ML.OnnxRuntime;
using Turbine.Onnx.Tools.Samples;

namespace Turbine.Onnx.Tests;

/// <summary>
/// The generated decoder behaves as an exported one must for a generation engine: decoding with its key/value cache
/// gives what recomputing the whole sequence gives, and rows of one batch whose caches differ in length (left-padded,
/// masked) each get what they get alone.
/// </summary>
public sealed class DecoderModelTests : IDisposable
{
    private static readonly DecoderShape Shape = new(Vocabulary: 1000, Width: 32, Layers: 2, Heads: 4, Context: 128);
    private readonly InferenceSession _session;

    public DecoderModelTests()
    {
        OnnxThreadBudget.EnsureEnvironment();
        _session = new InferenceSession(DecoderModel.Build(Shape));
    }

    [Fact]
    public void The_signature_is_the_one_optimum_exports()
    {
        Assert.Equal(["input_ids", "attention_mask", "position_ids", "past_key_values.0.key", "past_key_values.0.value", "past_key_values.1.key", "past_key_values.1.value"], _session.InputNames);
        Assert.Equal(["logits", "present.0.key", "present.0.value", "present.1.key", "present.1.value"], _session.OutputNames);
    }

    [Fact]
    public void Decoding_with_the_cache_gives_the_tokens_and_logits_of_recomputing_everything()
    {
        long[] prompt = [5, 17, 42, 7];
        var cached = new Sequence(prompt);
        var (withCache, cachedLogits) = Greedy([cached], steps: 8)[0];

        var tokens = prompt.ToList();
        var recomputedLogits = new List<float[]>();
        for (var step = 0; step < 8; step++)
        {
            var logits = Run([new Sequence([.. tokens])], [[.. tokens]], useCache: false)[0];
            recomputedLogits.Add(logits);
            tokens.Add(ArgMax(logits));
        }

        Assert.Equal(tokens.Skip(prompt.Length), withCache);
        Assert.True(withCache.Distinct().Count() > 1, "random weights that always pick one token would prove nothing");
        for (var step = 0; step < 8; step++)
        {
            Assert.Equal(recomputedLogits[step], cachedLogits[step], (a, b) => Math.Abs(a - b) < 1e-3f);
        }
    }

    [Fact]
    public void Rows_whose_caches_differ_in_length_each_decode_as_they_would_alone()
    {
        long[][] prompts = [[5, 17, 42, 7, 99], [9, 3], [600, 1, 2]];
        var alone = prompts.Select(p => Greedy([new Sequence(p)], steps: 6)[0].Tokens).ToList();

        var together = Greedy([.. prompts.Select(p => new Sequence(p))], steps: 6).Select(r => r.Tokens).ToList();

        Assert.Equal(alone, together);
    }

    /// <summary>Greedy decoding of every sequence in one batch: a prefill step over the prompts, then one token a step.</summary>
    private List<(List<long> Tokens, List<float[]> Logits)> Greedy(Sequence[] sequences, int steps)
    {
        var results = sequences.Select(_ => (Tokens: new List<long>(), Logits: new List<float[]>())).ToList();
        var next = sequences.Select(s => s.Prompt).ToArray();
        for (var step = 0; step < steps; step++)
        {
            var logits = Run(sequences, next, useCache: true);
            for (var r = 0; r < sequences.Length; r++)
            {
                var token = ArgMax(logits[r]);
                results[r].Tokens.Add(token);
                results[r].Logits.Add(logits[r]);
                next[r] = [token];
            }
        }

        return results;
    }

    /// <summary>
    /// One forward pass over the new tokens of each sequence (right-aligned: a shorter row is left-padded with masked
    /// positions), its cache left-padded to the longest; returns each row's logits at its last position.
    /// </summary>
    private float[][] Run(Sequence[] sequences, long[][] newTokens, bool useCache)
    {
        var batch = sequences.Length;
        var seq = newTokens.Max(t => t.Length);
        var past = useCache ? sequences.Max(s => s.Length) : 0;
        var total = past + seq;
        var ids = new long[batch * seq];
        var positions = new long[batch * seq];
        var mask = new long[batch * total];
        var heads = Shape.Heads;
        var width = Shape.HeadWidth;
        var pastValues = new float[Shape.Layers * 2][];
        for (var i = 0; i < pastValues.Length; i++)
        {
            pastValues[i] = new float[batch * heads * past * width];
        }

        for (var r = 0; r < batch; r++)
        {
            var sequence = sequences[r];
            var cachedLength = useCache ? sequence.Length : 0;
            var padPast = past - cachedLength;
            var padNew = seq - newTokens[r].Length;
            for (var j = 0; j < cachedLength; j++)
            {
                mask[(r * total) + padPast + j] = 1;
            }

            for (var i = 0; i < newTokens[r].Length; i++)
            {
                ids[(r * seq) + padNew + i] = newTokens[r][i];
                positions[(r * seq) + padNew + i] = cachedLength + i;
                mask[(r * total) + past + padNew + i] = 1;
            }

            for (var k = 0; useCache && k < pastValues.Length; k++)
            {
                for (var head = 0; head < heads; head++)
                {
                    Array.Copy(sequence.Cache[k], head * cachedLength * width, pastValues[k], ((((r * heads) + head) * past) + padPast) * width, cachedLength * width);
                }
            }
        }

        var inputs = new Dictionary<string, OrtValue>
        {
            ["input_ids"] = OrtValue.CreateTensorValueFromMemory(ids, [batch, seq]),
            ["attention_mask"] = OrtValue.CreateTensorValueFromMemory(mask, [batch, total]),
            ["position_ids"] = OrtValue.CreateTensorValueFromMemory(positions, [batch, seq]),
        };
        for (var layer = 0; layer < Shape.Layers; layer++)
        {
            inputs[$"past_key_values.{layer}.key"] = OrtValue.CreateTensorValueFromMemory(pastValues[2 * layer], [batch, heads, past, width]);
            inputs[$"past_key_values.{layer}.value"] = OrtValue.CreateTensorValueFromMemory(pastValues[(2 * layer) + 1], [batch, heads, past, width]);
        }

        using var runOptions = new RunOptions();
        using var outputs = _session.Run(runOptions, inputs.Keys.ToArray(), inputs.Values.ToArray(), _session.OutputNames);
        foreach (var value in inputs.Values)
        {
            value.Dispose();
        }

        var logits = outputs[0].GetTensorDataAsSpan<float>();
        var vocabulary = Shape.Vocabulary;
        var last = new float[batch][];
        for (var r = 0; r < batch; r++)
        {
            last[r] = logits.Slice((((r * seq) + seq - 1) * vocabulary), vocabulary).ToArray();
            if (!useCache)
            {
                continue;
            }

            // Keep each row's own cache: its real positions of the present tensors (the padding dropped).
            var sequence = sequences[r];
            var kept = sequence.Length + newTokens[r].Length;
            for (var k = 0; k < pastValues.Length; k++)
            {
                var present = outputs[1 + k].GetTensorDataAsSpan<float>();
                var cache = new float[heads * kept * width];
                for (var head = 0; head < heads; head++)
                {
                    var rowStart = ((r * heads) + head) * total * width;
                    present.Slice(rowStart + ((past - sequence.Length) * width), sequence.Length * width).CopyTo(cache.AsSpan(head * kept * width));
                    present.Slice(rowStart + ((past + seq - newTokens[r].Length) * width), newTokens[r].Length * width).CopyTo(cache.AsSpan(((head * kept) + sequence.Length) * width));
                }

                sequence.Cache[k] = cache;
            }

            sequence.Length = kept;
        }

        return last;
    }

    private static long ArgMax(float[] values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            best = values[i] > values[best] ? i : best;
        }

        return best;
    }

    public void Dispose() => _session.Dispose();

    /// <summary>A sequence being decoded: its prompt, and its cache per layer and kind ([heads, length, head width]).</summary>
    private sealed class Sequence(long[] prompt)
    {
        public long[] Prompt { get; } = prompt;

        public float[][] Cache { get; } = [.. Enumerable.Repeat(Array.Empty<float>(), Shape.Layers * 2)];

        public int Length { get; set; }
    }
}
