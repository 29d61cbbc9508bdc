namespace Turbine.Registry;

/// <summary>
/// The rules for a file's place in a version bundle, applied where a path enters (push) and where it leaves
/// (materialization), so that no manifest can write outside the folder it is materialized into (SECURITY.md A2, A3):
/// relative, '/'-separated, no empty, '.' or '..' segment, no drive, no backslash, no control characters.
/// </summary>
public static class BundlePaths
{
    /// <summary>Returns <paramref name="path"/> when it is safe, else throws.</summary>
    /// <exception cref="RegistryException">The path could reach outside its folder or is not a plain name.</exception>
    public static string Check(string path)
    {
        return Core.Repository.RelativePaths.IsSafe(path) ? path : throw new RegistryException($"'{ClientText.Quote(path)}' is not a safe relative path in a version bundle");
    }

    /// <summary>The file's full path under <paramref name="root"/>, checked to stay inside it.</summary>
    public static string Under(string root, string path)
    {
        var folder = Path.GetFullPath(root);
        var full = Path.GetFullPath(Path.Combine(folder, Check(path)));
        var prefix = folder.EndsWith(Path.DirectorySeparatorChar) ? folder : folder + Path.DirectorySeparatorChar;
        return full.StartsWith(prefix, StringComparison.Ordinal) ? full : throw new RegistryException($"'{ClientText.Quote(path)}' leaves its folder");
    }
}
