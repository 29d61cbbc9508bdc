using System.Numerics.Tensors;

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
    private float[] _shifted = [];
    private float[] _probabilities = [];
    private float[] _keys = [];

    public TokenSampler(SamplingParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _parameters = parameters;

        // Random(int) is the documented, stable sequence for a seed; the 64-bit seed folds into it.
        _random = parameters.Seed is { } seed ? new Random(unchecked((int)(seed ^ (seed >> 32)))) : new Random(Random.Shared.Next());
    }

    /// <summary>The next token for logits over the vocabulary (not changed: the sampler works on its own copy).</summary>
    /// <param name="logits">The model's logits for the next position.</param>
    /// <param name="history">The sequence's tokens, for the penalties.</param>
    /// <param name="constraint">Masks the tokens that may not come next (structured outputs), after the penalties.</param>
    public SampledToken Sample(ReadOnlySpan<float> logits, TokenHistory history, Constraints.ITokenConstraint? constraint = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        var vocabulary = logits.Length;
        if (_scratch.Length != vocabulary)
        {
            _scratch = new float[vocabulary];
            _order = new int[vocabulary];
            _shifted = new float[vocabulary];
            _probabilities = new float[vocabulary];
            _keys = new float[vocabulary];
        }

        var values = _scratch.AsSpan();
        logits.CopyTo(values);
        Penalize(values, history);
        constraint?.Mask(values);
        if (_parameters.IsGreedy && !_parameters.Logprobs && _parameters.TopLogprobs == 0)
        {
            return new SampledToken(TensorPrimitives.IndexOfMax(values), float.NaN, []);
        }

        // The draw works on its own buffer: log probabilities come from the penalized logits, before temperature and cuts.
        var chosen = _parameters.IsGreedy ? TensorPrimitives.IndexOfMax(values) : Draw(values, _probabilities);
        var logSum = LogSumExp(values);
        return new SampledToken(chosen, values[chosen] - logSum, TopLogprobs(values, logSum));
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

    /// <summary>Temperature, then the cuts, then one draw, with <paramref name="probabilities"/> as its working space.</summary>
    private int Draw(ReadOnlySpan<float> logits, Span<float> probabilities)
    {
        var p = _parameters;

        // Probabilities (unnormalized) at the temperature, relative to the most likely token.
        TensorPrimitives.Subtract(logits, TensorPrimitives.Max(logits), probabilities);
        TensorPrimitives.Divide(probabilities, p.Temperature, probabilities);
        TensorPrimitives.Exp(probabilities, probabilities);
        double total = TensorPrimitives.Sum(probabilities);

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

        var keys = _keys.AsSpan();
        probabilities.CopyTo(keys);
        keys.Sort(order, static (a, b) => b.CompareTo(a));
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

    private float LogSumExp(ReadOnlySpan<float> values)
    {
        var max = TensorPrimitives.Max(values);
        var shifted = _shifted.AsSpan(0, values.Length);
        TensorPrimitives.Subtract(values, max, shifted);
        TensorPrimitives.Exp(shifted, shifted);
        return max + MathF.Log(TensorPrimitives.Sum(shifted));
    }
}
