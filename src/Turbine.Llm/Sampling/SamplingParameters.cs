namespace Turbine.Llm.Sampling;

/// <summary>
/// How the next token is drawn, as the OpenAI API and vLLM name it. Temperature 0 is greedy (the most likely token).
/// Penalties apply before temperature: the repetition penalty (Hugging Face's: a positive logit divided by it, a negative
/// one multiplied) over the prompt and the output, presence and frequency penalties (OpenAI's: minus presence once, minus
/// frequency per occurrence) over the output.
/// </summary>
/// <param name="Temperature">0 for greedy; otherwise the logits are divided by it.</param>
/// <param name="TopP">Keep the most likely tokens whose probabilities add up to this (1: all).</param>
/// <param name="TopK">Keep the k most likely tokens (0: all).</param>
/// <param name="MinP">Keep tokens at least this fraction as likely as the most likely one (0: all).</param>
/// <param name="RepetitionPenalty">Above 1 discourages tokens already in the prompt or output (1: none).</param>
/// <param name="PresencePenalty">Subtracted from a token's logit once it has appeared in the output (-2 to 2).</param>
/// <param name="FrequencyPenalty">Subtracted from a token's logit per time it has appeared in the output (-2 to 2).</param>
/// <param name="Seed">Makes a request's draws reproducible; null draws fresh randomness.</param>
/// <param name="TopLogprobs">How many alternatives to report with their log probabilities (0 to 20).</param>
/// <param name="Logprobs">Whether to report the chosen token's log probability (the OpenAI <c>logprobs</c> flag).</param>
public sealed record SamplingParameters(
    float Temperature = 1,
    float TopP = 1,
    int TopK = 0,
    float MinP = 0,
    float RepetitionPenalty = 1,
    float PresencePenalty = 0,
    float FrequencyPenalty = 0,
    long? Seed = null,
    int TopLogprobs = 0,
    bool Logprobs = false)
{
    /// <summary>The defaults: temperature 1, nothing cut, no penalties.</summary>
    public static SamplingParameters Default { get; } = new();

    /// <summary>Always the most likely token.</summary>
    public static SamplingParameters Greedy { get; } = new(Temperature: 0);

    /// <summary>Whether the most likely token is always taken.</summary>
    public bool IsGreedy => Temperature == 0 || TopK == 1;

    /// <summary>What is out of range, each problem named as the OpenAI API names the field; empty when valid.</summary>
    public IReadOnlyList<string> Check()
    {
        var errors = new List<string>();
        if (!(Temperature is >= 0 and <= 2))
        {
            errors.Add($"'temperature' must be between 0 and 2, got {Temperature}");
        }

        if (!(TopP is > 0 and <= 1))
        {
            errors.Add($"'top_p' must be above 0 and at most 1, got {TopP}");
        }

        if (TopK < 0)
        {
            errors.Add($"'top_k' must be 0 (all) or positive, got {TopK}");
        }

        if (!(MinP is >= 0 and <= 1))
        {
            errors.Add($"'min_p' must be between 0 and 1, got {MinP}");
        }

        if (!(RepetitionPenalty is > 0 and <= 10))
        {
            errors.Add($"'repetition_penalty' must be above 0 and at most 10, got {RepetitionPenalty}");
        }

        if (!(PresencePenalty is >= -2 and <= 2))
        {
            errors.Add($"'presence_penalty' must be between -2 and 2, got {PresencePenalty}");
        }

        if (!(FrequencyPenalty is >= -2 and <= 2))
        {
            errors.Add($"'frequency_penalty' must be between -2 and 2, got {FrequencyPenalty}");
        }

        if (TopLogprobs is < 0 or > 20)
        {
            errors.Add($"'top_logprobs' must be between 0 and 20, got {TopLogprobs}");
        }

        return errors;
    }
}
