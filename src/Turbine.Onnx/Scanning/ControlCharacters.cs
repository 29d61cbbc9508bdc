namespace Turbine.Onnx.Scanning;

/// <summary>
/// Characters that have no business in the names and labels a model carries into logs, error messages and tools: C0
/// and C1 controls (terminal escapes start with ESC), DEL, and the bidirectional overrides that make text display
/// other than it reads ("Trojan Source").
/// </summary>
internal static class ControlCharacters
{
    /// <summary>In a name or key: any control character, line breaks and tabs included.</summary>
    public static bool InName(string value)
    {
        foreach (var c in value)
        {
            if (char.IsControl(c) || ClientText.IsBidiOverride(c))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>In free text (metadata values, string tensors): line breaks and tabs are allowed.</summary>
    public static bool InText(string value)
    {
        foreach (var c in value)
        {
            if ((char.IsControl(c) && c is not ('\t' or '\n' or '\r')) || ClientText.IsBidiOverride(c))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The value cut to <paramref name="maxLength"/> characters with every control character and bidirectional
    /// override written as <c>\uXXXX</c>, so that a finding quoting a hostile name shows it and cannot act on a
    /// terminal or a log.
    /// </summary>
    public static string Escape(string value, int maxLength = 200)
    {
        var text = new System.Text.StringBuilder(Math.Min(value.Length, maxLength) + 8);
        foreach (var c in value.Length > maxLength ? value[..maxLength] : value)
        {
            if (char.IsControl(c) || ClientText.IsBidiOverride(c))
            {
                text.Append($"\\u{(int)c:X4}");
            }
            else
            {
                text.Append(c);
            }
        }

        return value.Length > maxLength ? text.Append("...").ToString() : text.ToString();
    }
}
