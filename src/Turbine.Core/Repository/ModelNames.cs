namespace Turbine.Core.Repository;

/// <summary>
/// The rules for model names and versions that reach the file system (SECURITY.md A2): names are
/// <c>[A-Za-z0-9][A-Za-z0-9._-]{0,127}</c>, never <c>.</c> or <c>..</c>; versions are positive decimal integers.
/// Checked character by character: no regex, nothing to backtrack.
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

        return true;
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
