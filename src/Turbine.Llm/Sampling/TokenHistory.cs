namespace Turbine.Llm.Sampling;

/// <summary>The tokens a sequence has seen, counted, for the penalties: the prompt's once, and the output's per occurrence.</summary>
public sealed class TokenHistory
{
    private readonly HashSet<int> _prompt;
    private readonly Dictionary<int, int> _output = [];

    public TokenHistory(ReadOnlySpan<int> prompt)
    {
        _prompt = [.. prompt.ToArray()];
    }

    /// <summary>Tokens generated so far, by how many times each appeared.</summary>
    public IReadOnlyDictionary<int, int> Output => _output;

    /// <summary>Tokens of the prompt.</summary>
    public IReadOnlySet<int> Prompt => _prompt;

    /// <summary>Records a generated token.</summary>
    public void Add(int token) => _output[token] = _output.GetValueOrDefault(token) + 1;
}
