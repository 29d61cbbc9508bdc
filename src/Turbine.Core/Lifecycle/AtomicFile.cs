using System.Text.Json;

namespace Turbine.Core.Lifecycle;

/// <summary>
/// Writes a JSON file so that readers (and a process restarted after SIGKILL) see the old file or the new one, never
/// half of one: a temporary file next to it is written, flushed to disk and renamed over it.
/// </summary>
public static class AtomicFile
{
    /// <summary>The suffix of the temporary files; a store deletes leftovers with it at start.</summary>
    public const string TemporarySuffix = ".tmp";

    public static void WriteJson(string path, Action<Utf8JsonWriter> write)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + TemporarySuffix;
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            {
                write(writer);
            }

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
