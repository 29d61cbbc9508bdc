namespace Turbine.Llm.Sampling;

/// <summary>A drawn token with its log probability and, when asked, the most likely alternatives with theirs.</summary>
/// <param name="Token">The token.</param>
/// <param name="Logprob">Its log probability under the penalized distribution (before temperature and cuts, as vLLM reports by default); NaN when neither logprobs nor alternatives were asked for and the draw was greedy.</param>
/// <param name="TopLogprobs">The most likely tokens and their log probabilities, most likely first; empty unless asked.</param>
public readonly record struct SampledToken(int Token, float Logprob, IReadOnlyList<(int Token, float Logprob)> TopLogprobs);
