namespace Turbine.Llm.Constraints;

/// <summary>
/// Limits which tokens a sequence may draw next (structured outputs). The engine asks it to mask the logits before
/// each draw, then tells it the token drawn. One per sequence; it keeps the sequence's state.
/// </summary>
public interface ITokenConstraint
{
    /// <summary>Sets every token that may not come next to negative infinity.</summary>
    void Mask(Span<float> logits);

    /// <summary>Takes the drawn token into the state.</summary>
    void Accept(int token);
}
