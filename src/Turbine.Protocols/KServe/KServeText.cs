namespace Turbine.Protocols.KServe;

/// <summary>Client text quoted back in error messages is bounded and stripped of control characters (SECURITY.md A13).</summary>
internal static class KServeText
{
    public static string Bounded(string text)
    {
        var bounded = text.Length > 64 ? text[..64] + "..." : text;
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
