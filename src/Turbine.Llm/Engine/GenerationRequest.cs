using Turbine.Llm.Sampling;

namespace Turbine.Llm.Engine;

/// <summary>What to generate: the prompt's tokens, how to draw, and when to stop.</summary>
/// <param name="Prompt">The prompt, as token ids.</param>
/// <param name="Sampling">How each token is drawn.</param>
/// <param name="MaxTokens">Tokens to generate at most.</param>
/// <param name="StopTokens">Tokens that end the sequence (the end-of-text token among them); the one that does is reported with the finish reason, and is no part of the text.</param>
public sealed record GenerationRequest(IReadOnlyList<int> Prompt, SamplingParameters Sampling, int MaxTokens, IReadOnlySet<int> StopTokens)
{
    /// <summary>Limits the tokens each draw may take (structured outputs); null draws from the whole vocabulary.</summary>
    public Constraints.ITokenConstraint? Constraint { get; init; }
}

/// <summary>Why a sequence ended, as the OpenAI API names it.</summary>
public enum FinishReason
{
    /// <summary>A stop token (or, at the API, a stop string).</summary>
    Stop,

    /// <summary><c>max_tokens</c>, or the model's context.</summary>
    Length,
}

/// <summary>One generated token; the last one of a sequence carries why it ended.</summary>
/// <param name="Token">The token.</param>
/// <param name="Sampled">Its log probability and alternatives.</param>
/// <param name="Finish">Set on the sequence's last event.</param>
public sealed record GeneratedToken(int Token, SampledToken Sampled, FinishReason? Finish);
