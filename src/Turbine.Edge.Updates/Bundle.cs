using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;

namespace Turbine.Edge.Updates;

/// <summary>What a bundle holds beyond its files: its version (versions only grow on a device).</summary>
/// <param name="Version">The bundle's version; the target's custom <c>version</c> must say the same.</param>
public sealed record BundleManifest(long Version)
{
    /// <summary>The manifest's file name at the bundle's top.</summary>
    public const string FileName = "bundle.json";

    /// <summary>Reads a manifest.</summary>
    public static BundleManifest Read(string path)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            return document.RootElement.TryGetProperty("version", out var version) && version.TryGetInt64(out var number) && number > 0
                ? new BundleManifest(number)
                : throw new InvalidDataException($"{FileName} needs a positive integer \"version\"");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{FileName} is not JSON: {e.Message}", e);
        }
    }
}

/// <summary>The most a bundle may unpack to (decompression bombs, a full disk).</summary>
/// <param name="MaxBytes">Total bytes of its files.</param>
/// <param name="MaxEntries">Files and folders.</param>
public sealed record BundleLimits(long MaxBytes = 4L * 1024 * 1024 * 1024, int MaxEntries = 10_000);

/// <summary>
/// A bundle: a gzipped tar with <c>bundle.json</c>, <c>models/</c> (a model repository), optionally <c>golden/</c>
/// (<c>MODEL.jsonl</c> cases the health check runs) and <c>bin/turbine-edge</c> (a server build to run instead of the
/// agent's own). Unpacking takes regular files and folders only, under relative paths that stay inside the slot.
/// </summary>
public static class Bundle
{
    /// <summary>The server build a bundle may carry.</summary>
    public const string ServerBinary = "bin/turbine-edge";

    /// <summary>Packs a bundle from a model repository and the optional golden cases and server build.</summary>
    public static void Write(string output, long version, string modelRepository, string? goldenFolder = null, string? serverBinary = null)
    {
        using var file = File.Create(output);
        using var gzip = new GZipStream(file, CompressionLevel.Optimal);
        using var tar = new TarWriter(gzip, TarEntryFormat.Pax);
        var manifest = System.Text.Encoding.UTF8.GetBytes($$"""{"version": {{version}}}""");
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, BundleManifest.FileName) { DataStream = new MemoryStream(manifest) });

        AddFolder(tar, modelRepository, "models");
        if (goldenFolder is not null)
        {
            AddFolder(tar, goldenFolder, "golden");
        }

        if (serverBinary is not null)
        {
            tar.WriteEntry(serverBinary, ServerBinary);
        }
    }

    /// <summary>
    /// Unpacks a bundle into <paramref name="destination"/> (which must not exist), each file flushed to disk, then
    /// makes the tree read-only (the server never writes its model store). <paramref name="entryWritten"/> runs after
    /// each file (the fault points hook in).
    /// </summary>
    public static BundleManifest Extract(string archive, string destination, BundleLimits limits, Action? entryWritten = null)
    {
        try
        {
            return Unpack(archive, destination, limits, entryWritten);
        }
        catch (Exception e) when (e is EndOfStreamException or FormatException)
        {
            throw new InvalidDataException($"not a gzipped tar: {e.Message}", e);
        }
    }

    private static BundleManifest Unpack(string archive, string destination, BundleLimits limits, Action? entryWritten)
    {
        Directory.CreateDirectory(destination);
        var root = Path.GetFullPath(destination) + Path.DirectorySeparatorChar;
        long bytes = 0;
        var entries = 0;
        using (var file = File.OpenRead(archive))
        using (var gzip = new GZipStream(file, CompressionMode.Decompress))
        using (var tar = new TarReader(gzip))
        {
            while (tar.GetNextEntry() is { } entry)
            {
                if (++entries > limits.MaxEntries)
                {
                    throw new InvalidDataException($"the bundle has more than {limits.MaxEntries} entries");
                }

                var path = SafePath(root, entry.Name);
                switch (entry.EntryType)
                {
                    case TarEntryType.Directory:
                        Directory.CreateDirectory(path);
                        break;
                    case TarEntryType.RegularFile or TarEntryType.V7RegularFile:
                        bytes += entry.Length;
                        if (bytes > limits.MaxBytes)
                        {
                            throw new InvalidDataException($"the bundle unpacks to more than {limits.MaxBytes} bytes");
                        }

                        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                        using (var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
                        {
                            entry.DataStream?.CopyTo(output);
                            output.Flush(flushToDisk: true);
                        }

                        entryWritten?.Invoke();
                        break;
                    case TarEntryType.GlobalExtendedAttributes:
                        break;
                    default:
                        throw new InvalidDataException($"'{entry.Name}' is a {entry.EntryType}; a bundle holds regular files and folders only");
                }
            }
        }

        var manifest = Path.Combine(destination, BundleManifest.FileName);
        if (!File.Exists(manifest) || !Directory.Exists(Path.Combine(destination, "models")))
        {
            throw new InvalidDataException($"a bundle needs {BundleManifest.FileName} and models/");
        }

        MakeReadOnly(destination);
        return BundleManifest.Read(manifest);
    }

    /// <summary>Makes a slot's tree writable again so that it can be replaced.</summary>
    public static void MakeWritable(string folder)
    {
        if (!Directory.Exists(folder) || OperatingSystem.IsWindows())
        {
            return;
        }

        File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        foreach (var entry in Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories))
        {
            File.SetUnixFileMode(entry, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private static void MakeReadOnly(string folder)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        const UnixFileMode readable = UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        const UnixFileMode traversable = readable | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        var binary = Path.Combine(folder, ServerBinary);
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            File.SetUnixFileMode(file, file == binary ? traversable : readable);
        }

        foreach (var directory in Directory.EnumerateDirectories(folder, "*", SearchOption.AllDirectories).Reverse().Append(folder))
        {
            File.SetUnixFileMode(directory, traversable);
        }
    }

    private static string SafePath(string root, string name)
    {
        var relative = name.Replace('\\', '/').TrimEnd('/');
        if (relative.Length == 0 || relative.StartsWith('/') || relative.Split('/').Any(part => part is ".." || part.Contains('\0', StringComparison.Ordinal)))
        {
            throw new InvalidDataException($"'{name}' is not a relative path inside the bundle");
        }

        var full = Path.GetFullPath(Path.Combine(root, relative));
        return full.StartsWith(root, StringComparison.Ordinal) ? full : throw new InvalidDataException($"'{name}' leaves the bundle");
    }

    private static void AddFolder(TarWriter tar, string folder, string prefix)
    {
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            tar.WriteEntry(file, $"{prefix}/{Path.GetRelativePath(folder, file).Replace('\\', '/')}");
        }
    }
}
