using Turbine.Llm.Sampling;
using Turbine.Llm.Serving;

namespace Turbine.Server.OpenAi;

/// <summary>A completion or chat completion request, read and checked (<see cref="GenerationBodyReader"/>).</summary>
internal sealed record GenerationBody
{
    public required string Model { get; init; }

    /// <summary>Chat messages (chat completions), else null.</summary>
    public IReadOnlyList<ChatMessage>? Messages { get; init; }

    /// <summary>The tools the model may call (the API's tool objects), or null.</summary>
    public System.Text.Json.JsonElement? Tools { get; init; }

    /// <summary>The call the answer must be (<c>tool_choice</c> required or a named function), or null.</summary>
    public ForcedCall? ForcedCall { get; init; }

    /// <summary>Prompts as text or tokens (completions: each gets <see cref="N"/> choices), else empty.</summary>
    public IReadOnlyList<Prompt> Prompts { get; init; } = [];

    public bool Stream { get; init; }

    /// <summary>Whether a streamed answer ends with a usage chunk (<c>stream_options.include_usage</c>).</summary>
    public bool IncludeUsage { get; init; }

    /// <summary>Choices per prompt.</summary>
    public int N { get; init; } = 1;

    /// <summary>Tokens to generate at most; null: as many as the context leaves (chat), 16 (completions).</summary>
    public int? MaxTokens { get; init; }

    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>Token ids that end the text (vLLM's <c>stop_token_ids</c>).</summary>
    public IReadOnlySet<int> StopTokens { get; init; } = new HashSet<int>();

    public SamplingParameters Sampling { get; init; } = SamplingParameters.Default;

    /// <summary>Completions: whether the prompt comes back before the text.</summary>
    public bool Echo { get; init; }

    /// <summary>JSON output (<c>response_format</c>), or null for free text.</summary>
    public StructuredOutput? Structured { get; init; }
}

/// <summary>Output constrained to JSON: matching <paramref name="Schema"/>, or any object when it is null (<c>json_object</c>).</summary>
internal sealed record StructuredOutput(System.Text.Json.JsonElement? Schema);

/// <summary>A completion prompt: text, or token ids as the API also takes.</summary>
/// <param name="Text">The text, or null for token ids.</param>
/// <param name="Tokens">The token ids, or null for text.</param>
internal sealed record Prompt(string? Text, IReadOnlyList<int>? Tokens);

/// <summary>An answer that must be one call of one of <paramref name="Names"/>, its arguments held to <paramref name="Parameters"/> when one function is possible.</summary>
internal sealed record ForcedCall(IReadOnlyList<string> Names, System.Text.Json.JsonElement? Parameters);
