namespace Turbine;

/// <summary>
/// Client-supplied text (model names, ids, data types) quoted back in messages and logs: bounded in length and
/// with control characters (and bidirectional overrides) escaped, so it can neither flood nor forge a log line (SECURITY.md A13, A15).
/// </summary>
public static class ClientText
{
    /// <summary>Returns <paramref name="text"/> cut to <paramref name="maxLength"/> characters, control characters escaped.</summary>
    public static string Quote(string? text, int maxLength = 128)
    {
        if (text is null)
        {
            return string.Empty;
        }

        var bounded = text.Length > maxLength ? text[..maxLength] + "..." : text;
        foreach (var c in bounded)
        {
            if (char.IsControl(c) || IsBidiOverride(c))
            {
                return System.Text.Json.JsonEncodedText.Encode(bounded).ToString();
            }
        }

        return bounded;
    }

    /// <summary>The embeddings and overrides that make text display other than it reads ("Trojan Source").</summary>
    public static bool IsBidiOverride(char c) => c is (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069');
}
