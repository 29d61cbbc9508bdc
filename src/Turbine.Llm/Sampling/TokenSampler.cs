namespace Turbine.Llm.Sampling;

/// <summary>
/// Draws one sequence's next tokens from the model's logits: penalties, then log probabilities, then greedy or
/// temperature with top-k, top-p and min-p cuts. One sampler per sequence, holding its random source, so a seeded
/// request draws the same tokens whatever else shares its batch.
/// </summary>
public sealed class TokenSampler
{
    private readonly SamplingParameters _parameters;
    private readonly Random _random;
    private float[] _scratch = [];
    private int[] _order = [];

    public TokenSampler(SamplingParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _parameters = parameters;

        // Random(int) is the documented, stable sequence for a seed; the 64-bit seed folds into it.
        _random = parameters.Seed is { } seed ? new Random(unchecked((int)(seed ^ (seed >> 32)))) : new Random(Random.Shared.Next());
    }

    /// <summary>The next token for logits over the vocabulary (not changed: the sampler works on its own copy).</summary>
    public SampledToken Sample(ReadOnlySpan<float> logits, TokenHistory history)
    {
        ArgumentNullException.ThrowIfNull(history);
        var vocabulary = logits.Length;
        if (_scratch.Length != vocabulary)
        {
            _scratch = new float[vocabulary];
            _order = new int[vocabulary];
        }

        var values = _scratch.AsSpan();
        logits.CopyTo(values);
        Penalize(values, history);
        var logSum = LogSumExp(values);
        var token = _parameters.IsGreedy ? ArgMax(values) : Draw(values);
        var logprob = values[token] - logSum;
        return new SampledToken(token, logprob, TopLogprobs(values, logSum));
    }

    private void Penalize(Span<float> values, TokenHistory history)
    {
        var p = _parameters;
        if (p.RepetitionPenalty != 1)
        {
            foreach (var token in history.Prompt.Concat(history.Output.Keys).Distinct())
            {
                if ((uint)token < (uint)values.Length)
                {
                    values[token] = values[token] > 0 ? values[token] / p.RepetitionPenalty : values[token] * p.RepetitionPenalty;
                }
            }
        }

        if (p.PresencePenalty != 0 || p.FrequencyPenalty != 0)
        {
            foreach (var (token, count) in history.Output)
            {
                if ((uint)token < (uint)values.Length)
                {
                    values[token] -= p.PresencePenalty + (p.FrequencyPenalty * count);
                }
            }
        }
    }

    /// <summary>Temperature, then the cuts, then one draw; works on <c>_scratch</c> as probabilities from here on.</summary>
    private int Draw(Span<float> logits)
    {
        var p = _parameters;
        var max = float.NegativeInfinity;
        foreach (var value in logits)
        {
            max = MathF.Max(max, value);
        }

        // Probabilities (unnormalized) at the temperature, relative to the most likely token.
        var probabilities = logits;
        double total = 0;
        for (var i = 0; i < probabilities.Length; i++)
        {
            probabilities[i] = MathF.Exp((logits[i] - max) / p.Temperature);
            total += probabilities[i];
        }

        if (p.MinP > 0)
        {
            // The most likely token has probability 1 / total here; keep what reaches min_p of it.
            var floor = p.MinP;
            for (var i = 0; i < probabilities.Length; i++)
            {
                if (probabilities[i] < floor)
                {
                    total -= probabilities[i];
                    probabilities[i] = 0;
                }
            }
        }

        if (p.TopK > 0 || p.TopP < 1)
        {
            total = CutToNucleus(probabilities, total);
        }

        var target = _random.NextDouble() * total;
        var last = 0;
        for (var i = 0; i < probabilities.Length; i++)
        {
            if (probabilities[i] <= 0)
            {
                continue;
            }

            last = i;
            target -= probabilities[i];
            if (target < 0)
            {
                return i;
            }
        }

        return last; // rounding left a sliver: the last candidate takes it
    }

    /// <summary>Zeroes every token outside the top k and outside the smallest set whose mass reaches top_p; the mass kept.</summary>
    private double CutToNucleus(Span<float> probabilities, double total)
    {
        var p = _parameters;
        var order = _order.AsSpan(0, probabilities.Length);
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        var keys = probabilities.ToArray();
        keys.AsSpan().Sort(order, static (a, b) => b.CompareTo(a));
        var keep = p.TopK > 0 ? Math.Min(p.TopK, order.Length) : order.Length;
        double kept = 0;
        var count = 0;
        for (; count < keep && keys[count] > 0; count++)
        {
            kept += keys[count];
            if (kept >= p.TopP * total)
            {
                count++;
                break;
            }
        }

        for (var i = count; i < order.Length; i++)
        {
            probabilities[order[i]] = 0;
        }

        return kept;
    }

    private List<(int Token, float Logprob)> TopLogprobs(ReadOnlySpan<float> logits, float logSum)
    {
        var count = _parameters.TopLogprobs;
        if (count == 0)
        {
            return [];
        }

        var best = new List<(int Token, float Logprob)>(count + 1);
        for (var i = 0; i < logits.Length; i++)
        {
            var logprob = logits[i] - logSum;
            if (best.Count < count || logprob > best[^1].Logprob)
            {
                var position = best.FindIndex(b => b.Logprob < logprob);
                best.Insert(position < 0 ? best.Count : position, (i, logprob));
                if (best.Count > count)
                {
                    best.RemoveAt(best.Count - 1);
                }
            }
        }

        return best;
    }

    private static float LogSumExp(ReadOnlySpan<float> values)
    {
        var max = float.NegativeInfinity;
        foreach (var value in values)
        {
            max = MathF.Max(max, value);
        }

        double sum = 0;
        foreach (var value in values)
        {
            sum += Math.Exp(value - max);
        }

        return max + (float)Math.Log(sum);
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }
}
