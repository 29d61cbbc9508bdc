using System.IO.Compression;

namespace Turbine.Onnx.Scanning;

/// <summary>
/// Looks at every file of the version folder other than the model and its external data: a Python pickle runs code
/// when anything loads it, and executables, scripts and archives have no place beside a model that Turbine serves.
/// Files are recognised by their first bytes as well as their names, so renaming one does not hide it; links are
/// reported and never followed.
/// </summary>
internal sealed class VersionFolderScan(ScanFindings findings, string versionFolder, string modelFile, HashSet<string> externalFiles)
{
    private const int MaxDepth = 8;
    private const int HeaderBytes = 512;

    private static readonly string[] PickleExtensions = [".pkl", ".pickle", ".joblib", ".dill", ".pt", ".pth", ".ckpt"];
    private static readonly string[] ExecutableExtensions = [".so", ".dll", ".dylib", ".exe", ".sh", ".bash", ".bat", ".cmd", ".ps1", ".py", ".jar"];
    private static readonly string[] ArchiveExtensions = [".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".zst"];

    // Magic numbers that are not ASCII.
    private static readonly byte[] MachO64 = [0xCF, 0xFA, 0xED, 0xFE];
    private static readonly byte[] MachO32 = [0xCE, 0xFA, 0xED, 0xFE];
    private static readonly byte[] FatBinary = [0xCA, 0xFE, 0xBA, 0xBE]; // Mach-O universal binaries and Java classes
    private static readonly byte[] Gzip = [0x1F, 0x8B];
    private static readonly byte[] Xz = [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00];
    private static readonly byte[] SevenZip = [0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C];
    private static readonly byte[] Zstandard = [0x28, 0xB5, 0x2F, 0xFD];

    public void Run() => Visit(new DirectoryInfo(versionFolder), depth: 0);

    private void Visit(DirectoryInfo folder, int depth)
    {
        foreach (var entry in folder.EnumerateFileSystemInfos())
        {
            var name = Path.GetRelativePath(versionFolder, entry.FullName);
            if (entry.LinkTarget is not null)
            {
                if (!externalFiles.Contains(entry.FullName))
                {
                    findings.Warn(ScanFindingKinds.Link, name, "a symbolic link; the scan does not follow it, and neither should anything else");
                }
            }
            else if (entry is DirectoryInfo subfolder)
            {
                if (depth < MaxDepth)
                {
                    Visit(subfolder, depth + 1);
                }
            }
            else if (entry.FullName != modelFile && !externalFiles.Contains(entry.FullName))
            {
                Classify((FileInfo)entry, name);
            }
        }
    }

    private void Classify(FileInfo file, string name)
    {
        var header = ReadHeader(file);
        var extension = file.Extension.ToLowerInvariant();
        if (PickleExtensions.Contains(extension) || IsPickle(header) || IsZipHoldingPickles(file, header))
        {
            findings.Block(ScanFindingKinds.Pickle, name, "a Python pickle (or a checkpoint built on one): unpickling runs code");
        }
        else if (ExecutableExtensions.Contains(extension) || IsExecutable(header))
        {
            findings.Block(ScanFindingKinds.Executable, name, "a native executable, shared library or script");
        }
        else if (ArchiveExtensions.Contains(extension) || IsArchive(header))
        {
            findings.Warn(ScanFindingKinds.Archive, name, "an archive: Turbine never opens it, and the scan cannot see inside it");
        }
    }

    private static byte[] ReadHeader(FileInfo file)
    {
        using var stream = file.OpenRead();
        var header = new byte[Math.Min(HeaderBytes, file.Length)];
        stream.ReadExactly(header);
        return header;
    }

    /// <summary>Pickle protocols 2 to 5 open with the PROTO opcode and the protocol number.</summary>
    private static bool IsPickle(ReadOnlySpan<byte> header) => header is [0x80, >= 2 and <= 5, ..];

    private static bool IsExecutable(ReadOnlySpan<byte> header) =>
        header.StartsWith("\u007FELF"u8) // ELF (Linux executables and shared libraries)
        || header.StartsWith("MZ"u8) // PE (Windows)
        || header.StartsWith(MachO64) || header.StartsWith(MachO32) || header.StartsWith(FatBinary)
        || header.StartsWith("#!"u8); // a script with an interpreter line

    private static bool IsArchive(ReadOnlySpan<byte> header) =>
        header.StartsWith("PK\u0003\u0004"u8) || header.StartsWith("PK\u0005\u0006"u8) // zip
        || header.StartsWith(Gzip)
        || header.StartsWith("BZh"u8) // bzip2
        || header.StartsWith(Xz)
        || header.StartsWith(SevenZip)
        || header.StartsWith("Rar!"u8)
        || header.StartsWith(Zstandard)
        || (header.Length >= 262 && header[257..262].SequenceEqual("ustar"u8)); // tar

    /// <summary>PyTorch's checkpoints are zip files around a <c>data.pkl</c>, whatever their name says.</summary>
    private static bool IsZipHoldingPickles(FileInfo file, ReadOnlySpan<byte> header)
    {
        if (!header.StartsWith("PK\u0003\u0004"u8))
        {
            return false;
        }

        try
        {
            using var archive = ZipFile.OpenRead(file.FullName);
            return archive.Entries.Any(e => PickleExtensions.Contains(Path.GetExtension(e.FullName).ToLowerInvariant()));
        }
        catch (InvalidDataException)
        {
            return false;
        }
    }
}
