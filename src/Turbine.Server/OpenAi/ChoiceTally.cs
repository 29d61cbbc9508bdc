using Turbine.Llm.Engine;

namespace Turbine.Server.OpenAi;

/// <summary>What the choices of one answer came to so far: tokens and finish reason per choice, and whether it was sent whole.</summary>
internal sealed class ChoiceTally(int choices, int promptTokens)
{
    private readonly int[] _tokens = new int[choices];
    private readonly bool[] _started = new bool[choices];

    /// <summary>Each choice's drawn tokens with their log probabilities (kept when the request asked for them).</summary>
    public List<Llm.Sampling.SampledToken>[] Drawn { get; } = [.. Enumerable.Range(0, choices).Select(_ => new List<Llm.Sampling.SampledToken>())];

    /// <summary>Each choice's text length so far, where the next token's text starts (<c>text_offset</c>).</summary>
    public int[] TextOffsets { get; } = new int[choices];

    /// <summary>Each choice's finish reason as the API names it (stop, length, tool_calls), once it has one.</summary>
    public string?[] Finishes { get; } = new string?[choices];

    /// <summary>Whether the answer went out complete.</summary>
    public bool Succeeded { get; set; }

    /// <summary>Tokens generated, every choice together.</summary>
    public int CompletionTokens => _tokens.Sum();

    public int PromptTokens => promptTokens;

    public Usage Usage => new(promptTokens, CompletionTokens);

    /// <summary>The API's name of a finish reason.</summary>
    public static string FinishName(FinishReason finish) => finish == FinishReason.Stop ? "stop" : "length";

    /// <summary>Counts a piece of a choice's text; true when it is the choice's first.</summary>
    public bool Add(int index, TextDelta delta)
    {
        _tokens[index] = delta.CompletionTokens;
        Drawn[index].AddRange(delta.Tokens);
        Finishes[index] = delta.Finish is { } finish ? FinishName(finish) : Finishes[index];
        var first = !_started[index];
        _started[index] = true;
        return first;
    }
}
