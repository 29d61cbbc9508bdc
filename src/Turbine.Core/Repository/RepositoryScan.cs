using System.Security.Cryptography;
using System.Text;

namespace Turbine.Core.Repository;

/// <summary>
/// A fingerprint of every model folder: each file's relative path, length and last write time, hashed. Two equal
/// fingerprints one poll apart mean that nothing is being copied into the folder.
/// </summary>
public static class RepositoryScan
{
    /// <summary>Files looked at per model; a folder with more is fingerprinted by its first ones (in name order).</summary>
    private const int MaxFilesPerModel = 10_000;

    /// <summary>Folder name to fingerprint, for every model and ensemble folder of <paramref name="repository"/>.</summary>
    public static Dictionary<string, string> Take(ModelRepository repository)
    {
        ArgumentNullException.ThrowIfNull(repository);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in repository.ListFolders())
        {
            try
            {
                result[name] = Fingerprint(Path.Combine(repository.Root, name));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A folder that vanished or changed mid-scan is scanned again next time.
            }
        }

        return result;
    }

    private static string Fingerprint(string folder)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, MaxRecursionDepth = 8 };
        var lines = new List<string>();
        foreach (var file in new DirectoryInfo(folder).EnumerateFiles("*", options))
        {
            lines.Add($"{Path.GetRelativePath(folder, file.FullName)}\t{file.Length}\t{file.LastWriteTimeUtc.Ticks}");
            if (lines.Count == MaxFilesPerModel)
            {
                break;
            }
        }

        lines.Sort(StringComparer.Ordinal);
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', lines))));
    }
}
