namespace Turbine.Core.Lifecycle;

/// <summary>
/// Which version answers a model's requests that name none (the default version), and which versions its labels
/// (<c>stable</c>, <c>canary</c>, ...) name. Changing either is instant: no version is loaded or unloaded.
/// </summary>
/// <param name="DefaultVersion">The pinned default version; null means the newest ready version.</param>
/// <param name="Labels">Label to version.</param>
public sealed record VersionRouting(long? DefaultVersion, IReadOnlyDictionary<string, long> Labels)
{
    /// <summary>No pinned default, no labels.</summary>
    public static VersionRouting Empty { get; } = new(null, new Dictionary<string, long>(StringComparer.Ordinal));

    /// <summary>
    /// Whether <paramref name="label"/> can name a version: a letter, then letters, digits, '_' or '-', at most 64
    /// characters. A label never starts with a digit, so it can travel where a version number does.
    /// </summary>
    public static bool IsValidLabel(ReadOnlySpan<char> label)
    {
        if (label.Length is 0 or > 64 || !char.IsAsciiLetter(label[0]))
        {
            return false;
        }

        foreach (var c in label)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not '_' and not '-')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>This routing with <paramref name="label"/> set to <paramref name="version"/>, or removed when null.</summary>
    public VersionRouting WithLabel(string label, long? version)
    {
        var labels = new Dictionary<string, long>(Labels, StringComparer.Ordinal);
        if (version is null)
        {
            labels.Remove(label);
        }
        else
        {
            labels[label] = version.Value;
        }

        return this with { Labels = labels };
    }
}
