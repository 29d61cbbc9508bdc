namespace Turbine.Core.Lifecycle;

/// <summary>
/// Writes a file so that readers (and a process restarted after SIGKILL) see the old file or the new one, never
/// half of one: a temporary file next to it is written, flushed to disk and renamed over it.
/// </summary>
internal static class AtomicFile
{
    /// <summary>The suffix of the temporary files; a store deletes leftovers with it at start.</summary>
    public const string TemporarySuffix = ".tmp";

    public static void WriteBytes(string path, byte[] bytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + TemporarySuffix;
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Deletes temporary files a killed process left in <paramref name="folder"/>.</summary>
    public static void DeleteLeftovers(string folder)
    {
        if (Directory.Exists(folder))
        {
            foreach (var leftover in Directory.EnumerateFiles(folder, "*.json" + TemporarySuffix))
            {
                File.Delete(leftover);
            }
        }
    }
}
