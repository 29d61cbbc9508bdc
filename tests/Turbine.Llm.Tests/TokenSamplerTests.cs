using Turbine.Llm.Sampling;

namespace Turbine.Llm.Tests;

public sealed class TokenSamplerTests
{
    private static readonly float[] Logits = [1.0f, 3.0f, 2.0f, 0.5f, 2.9f];

    private static SampledToken Sample(SamplingParameters parameters, float[]? logits = null, TokenHistory? history = null) =>
        new TokenSampler(parameters).Sample(logits ?? Logits, history ?? new TokenHistory([]));

    [Fact]
    public void Greedy_takes_the_most_likely_token_and_reports_its_log_probability()
    {
        var sampled = Sample(SamplingParameters.Greedy with { TopLogprobs = 3, Logprobs = true });

        var expected = 3.0 - Math.Log(Logits.Sum(l => Math.Exp(l)));
        Assert.Equal(1, sampled.Token);
        Assert.Equal(expected, sampled.Logprob, 5);
        Assert.Equal([1, 4, 2], sampled.TopLogprobs.Select(t => t.Token));
        Assert.Equal(sampled.Logprob, sampled.TopLogprobs[0].Logprob);
    }

    [Fact]
    public void A_seed_makes_a_requests_draws_reproducible_and_another_seed_draws_others()
    {
        static int[] Draws(long seed)
        {
            var sampler = new TokenSampler(new SamplingParameters(Temperature: 1.5f, Seed: seed));
            return [.. Enumerable.Range(0, 64).Select(_ => sampler.Sample(Logits, new TokenHistory([])).Token)];
        }

        Assert.Equal(Draws(42), Draws(42));
        Assert.NotEqual(Draws(42), Draws(43));
    }

    [Fact]
    public void Draws_follow_the_softmax_at_the_temperature()
    {
        var sampler = new TokenSampler(new SamplingParameters(Temperature: 0.7f, Seed: 1));
        var counts = new int[Logits.Length];
        const int Draws = 20_000;
        for (var i = 0; i < Draws; i++)
        {
            counts[sampler.Sample(Logits, new TokenHistory([])).Token]++;
        }

        var weights = Logits.Select(l => Math.Exp(l / 0.7)).ToArray();
        for (var token = 0; token < Logits.Length; token++)
        {
            var expected = weights[token] / weights.Sum();
            Assert.InRange(counts[token] / (double)Draws, expected - 0.015, expected + 0.015);
        }
    }

    [Theory]
    [InlineData(2, 1.0f, 0f, new[] { 1, 4 })]        // top-k 2
    [InlineData(0, 0.5f, 0f, new[] { 1, 4 })]        // top-p: 1 alone holds 0.36 of the mass, 1 and 4 0.69
    [InlineData(0, 1.0f, 0.3f, new[] { 1, 4, 2 })]   // min-p 0.3: 4 (0.90 of the best) and 2 (0.37) stay, 0 (0.14) and 3 (0.08) go
    [InlineData(0, 1.0f, 0.5f, new[] { 1, 4 })]      // min-p 0.5: 2 (0.37) goes too
    [InlineData(1, 1.0f, 0f, new[] { 1 })]           // top-k 1 is greedy
    public void Cuts_keep_only_the_tokens_they_allow(int topK, float topP, float minP, int[] allowed)
    {
        var sampler = new TokenSampler(new SamplingParameters(Temperature: 1, TopK: topK, TopP: topP, MinP: minP, Seed: 3));
        var seen = Enumerable.Range(0, 2000).Select(_ => sampler.Sample(Logits, new TokenHistory([])).Token).ToHashSet();

        Assert.Subset(allowed.ToHashSet(), seen);
        Assert.Equal(allowed.Order(), seen.Order());
    }

    [Fact]
    public void Penalties_change_the_logits_as_openai_and_hugging_face_define_them()
    {
        var history = new TokenHistory([2]);
        history.Add(1);
        history.Add(1);
        history.Add(4);

        // Frequency 0.6 twice and presence 0.5 take token 1 from 3.0 to 1.3; token 4 from 2.9 to 1.8: token 2 (2.0) wins.
        Assert.Equal(2, Sample(SamplingParameters.Greedy with { PresencePenalty = 0.5f, FrequencyPenalty = 0.6f }, history: history).Token);

        // A repetition penalty of 2 halves the positive logits of prompt and output tokens (1, 2, 4): 0 (1.0) and 3 (0.5) untouched.
        var penalized = Sample(SamplingParameters.Greedy with { RepetitionPenalty = 2, TopLogprobs = 5 }, history: history);
        var logprobs = penalized.TopLogprobs.ToDictionary(t => t.Token, t => t.Logprob);
        Assert.Equal(1.5 - 1.0, logprobs[1] - logprobs[0], 4);
        Assert.Equal(1.45 - 0.5, logprobs[4] - logprobs[3], 4);
        Assert.Equal(1, penalized.Token);
    }

    [Fact]
    public void Parameters_out_of_range_are_named_as_the_api_names_them()
    {
        var errors = new SamplingParameters(Temperature: -1, TopP: 0, TopK: -2, MinP: 2, RepetitionPenalty: 0, PresencePenalty: 3, FrequencyPenalty: -3, TopLogprobs: 21).Check();

        Assert.Equal(8, errors.Count);
        Assert.Contains(errors, e => e.StartsWith("'temperature'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("'top_logprobs'", StringComparison.Ordinal));
        Assert.Empty(SamplingParameters.Default.Check());
    }
}
