namespace Turbine;

/// <summary>
/// Client-supplied text (model names, ids, data types) quoted back in messages and logs: bounded in length and
/// with control characters escaped, so it can neither flood nor forge a log line (SECURITY.md A13, A15).
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
            if (char.IsControl(c))
            {
                return System.Text.Json.JsonEncodedText.Encode(bounded).ToString();
            }
        }

        return bounded;
    }
}
