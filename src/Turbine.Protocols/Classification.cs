namespace Turbine.Protocols;

/// <summary>The classification extension's request parameter, read the same way by both protocols.</summary>
internal static class Classification
{
    /// <summary>The requested output's parameter that asks for its top classes (what Triton's clients send for <c>class_count</c>).</summary>
    public const string Parameter = "classification";

    /// <summary>Reads a class count: an integer from 0 (no classification) to <see cref="int.MaxValue"/>.</summary>
    public static bool TryReadCount(object? value, out int count)
    {
        count = 0;
        switch (value)
        {
            case long signed when signed is >= 0 and <= int.MaxValue:
                count = (int)signed;
                return true;
            case ulong unsigned when unsigned <= int.MaxValue:
                count = (int)unsigned;
                return true;
            default:
                return false;
        }
    }

    public static InferenceError BadCount(string? output) =>
        InferenceError.Invalid($"the 'classification' parameter of output '{ClientText.Quote(output ?? string.Empty)}' must be a non-negative integer");
}
