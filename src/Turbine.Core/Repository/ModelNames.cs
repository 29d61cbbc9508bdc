namespace Turbine.Core.Repository;

/// <summary>
/// The rules for model names and versions that reach the file system (SECURITY.md A2): names are
/// <c>[A-Za-z0-9][A-Za-z0-9._-]{0,127}</c>, never <c>.</c> or <c>..</c>, and never a Windows device name (<c>CON</c>,
/// <c>nul.json</c>: routes and pipelines are saved under their names, and a repository may be copied to Windows);
/// versions are positive decimal integers. Checked character by character: no regex, nothing to backtrack.
/// </summary>
public static class ModelNames
{
    /// <summary>The longest accepted name.</summary>
    public const int MaxLength = 128;

    /// <summary>Whether <paramref name="name"/> is a safe model name.</summary>
    public static bool IsValid(ReadOnlySpan<char> name)
    {
        if (name.Length is 0 or > MaxLength || name is "." or ".." || !char.IsAsciiLetterOrDigit(name[0]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not '.' and not '_' and not '-')
            {
                return false;
            }
        }

        return !IsDeviceName(name);
    }

    /// <summary>CON, PRN, AUX, NUL, COM1-9 and LPT1-9, in any case, alone or before an extension.</summary>
    private static bool IsDeviceName(ReadOnlySpan<char> name)
    {
        var stem = name.IndexOf('.') is var dot and >= 0 ? name[..dot] : name;
        return stem.Length switch
        {
            3 => stem.Equals("CON", StringComparison.OrdinalIgnoreCase) || stem.Equals("PRN", StringComparison.OrdinalIgnoreCase) ||
                 stem.Equals("AUX", StringComparison.OrdinalIgnoreCase) || stem.Equals("NUL", StringComparison.OrdinalIgnoreCase),
            4 => (stem.StartsWith("COM", StringComparison.OrdinalIgnoreCase) || stem.StartsWith("LPT", StringComparison.OrdinalIgnoreCase)) && stem[3] is >= '1' and <= '9',
            _ => false,
        };
    }

    /// <summary>Parses a version: a positive decimal integer without sign, spaces or leading zeros.</summary>
    public static bool TryParseVersion(ReadOnlySpan<char> text, out long version)
    {
        version = 0;
        if (text.Length is 0 or > 18 || text[0] == '0')
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            version = (version * 10) + (c - '0');
        }

        return true;
    }
}
