namespace Turbine.Core.Repository;

/// <summary>
/// A path that may come from outside (an archive entry, a manifest) and will be joined under a folder of ours
/// (SECURITY.md A2, A3): relative, '/'-separated, no empty, '.' or '..' segment, no drive or colon, no backslash, no
/// control characters, at most 512 characters.
/// </summary>
public static class RelativePaths
{
    public static bool IsSafe(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return path.Length is > 0 and <= 512
            && !path.StartsWith('/')
            && !path.Contains('\\', StringComparison.Ordinal)
            && !path.Contains(':', StringComparison.Ordinal)
            && !path.Any(char.IsControl)
            && path.Split('/').All(segment => segment.Length > 0 && segment != "." && segment != "..");
    }
}
