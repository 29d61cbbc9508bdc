using System.Formats.Tar;
using System.IO.Compression;

namespace Turbine.Core.Repository;

/// <summary>The caps an archive is extracted within (SECURITY.md A3, A7).</summary>
/// <param name="MaxTotalBytes">Bytes written in all, counted as they are decompressed.</param>
/// <param name="MaxEntries">Entries (files and folders).</param>
/// <param name="MaxRatio">Decompressed bytes per compressed byte: a bomb of zeros passes the size cap slowly, not this.</param>
public sealed record ArchiveLimits(long MaxTotalBytes = 8L << 30, int MaxEntries = 10_000, double MaxRatio = 200);

/// <summary>
/// The one archive extractor (SECURITY.md A3): a zip, a tar or a gzip'd tar (told by their first bytes) is extracted
/// into a fresh folder, entry by entry, refusing absolute paths, '..' and empty segments, drives and backslashes,
/// links (symbolic and hard), devices and pipes, duplicate entries, and going past the caps. Anything refused deletes
/// what was written, so a caller publishes the folder (by rename) only when extraction succeeded.
/// </summary>
public static class ArchiveExtractor
{
    /// <summary>Extracts <paramref name="archive"/> into <paramref name="target"/>, which must not exist yet.</summary>
    /// <exception cref="InvalidDataException">The archive is not zip or tar, breaks a rule, or goes past a cap; nothing is left behind.</exception>
    public static async Task ExtractAsync(Stream archive, string target, ArchiveLimits limits, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(archive);
        ArgumentNullException.ThrowIfNull(limits);
        if (Directory.Exists(target) || File.Exists(target))
        {
            throw new InvalidOperationException("extraction needs a fresh folder");
        }

        var counted = new CountingStream(archive);
        var written = new Written(target, limits, counted);
        Directory.CreateDirectory(target);
        try
        {
            var header = new byte[4];
            var buffered = new BufferedStream(counted, 1 << 16);
            var read = await buffered.ReadAtLeastAsync(header, header.Length, throwOnEndOfStream: false, cancellationToken);
            var body = new PrefixedStream(header.AsMemory(0, read), buffered);
            try
            {
                if (header is [(byte)'P', (byte)'K', 3, 4])
                {
                    await ExtractZipAsync(body, written, cancellationToken);
                }
                else
                {
                    await ExtractTarAsync(header is [0x1F, 0x8B, ..] ? new GZipStream(body, CompressionMode.Decompress) : body, written, cancellationToken);
                }
            }
            catch (Exception e) when (e is FormatException or EndOfStreamException or ArgumentException or NotSupportedException)
            {
                throw new InvalidDataException($"not a readable zip or tar archive: {e.Message}");
            }
        }
        catch
        {
            Directory.Delete(target, recursive: true);
            throw;
        }
    }

    private static async Task ExtractTarAsync(Stream stream, Written written, CancellationToken cancellationToken)
    {
        await using var reader = new TarReader(stream);
        while (await reader.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
        {
            switch (entry.EntryType)
            {
                case TarEntryType.Directory:
                    written.Folder(entry.Name);
                    break;
                case TarEntryType.RegularFile or TarEntryType.V7RegularFile:
                    await written.FileAsync(entry.Name, entry.DataStream ?? Stream.Null, cancellationToken);
                    break;
                case TarEntryType.GlobalExtendedAttributes or TarEntryType.ExtendedAttributes:
                    break; // metadata of the entries around it, nothing written
                default:
                    throw new InvalidDataException($"'{ClientText.Quote(entry.Name)}' is a {entry.EntryType}: archives may hold only files and folders");
            }
        }
    }

    private static async Task ExtractZipAsync(Stream stream, Written written, CancellationToken cancellationToken)
    {
        // A zip's directory is at its end: the archive is read whole (it is already bounded by the request's size).
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, cancellationToken);
        buffer.Position = 0;
        using var zip = new ZipArchive(buffer, ZipArchiveMode.Read);
        foreach (var entry in zip.Entries)
        {
            const int SymbolicLink = 0xA000; // S_IFLNK in the Unix mode a zip keeps in the external attributes' high half
            if (((entry.ExternalAttributes >> 16) & 0xF000) == SymbolicLink)
            {
                throw new InvalidDataException($"'{ClientText.Quote(entry.FullName)}' is a link: archives may hold only files and folders");
            }

            if (entry.FullName.EndsWith('/'))
            {
                written.Folder(entry.FullName);
                continue;
            }

            await using var data = entry.Open();
            await written.FileAsync(entry.FullName, data, cancellationToken);
        }
    }

    /// <summary>What an extraction has written so far, and the checks on the next entry.</summary>
    private sealed class Written(string root, ArchiveLimits limits, CountingStream input)
    {
        private readonly HashSet<string> _paths = new(StringComparer.Ordinal);
        private long _bytes;

        public void Folder(string name) => Directory.CreateDirectory(Claim(name.TrimEnd('/')));

        public async Task FileAsync(string name, Stream data, CancellationToken cancellationToken)
        {
            var path = Claim(name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await using var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
            var buffer = new byte[1 << 16];
            int read;
            while ((read = await data.ReadAsync(buffer, cancellationToken)) > 0)
            {
                _bytes += read;
                if (_bytes > limits.MaxTotalBytes)
                {
                    throw new InvalidDataException($"the archive holds more than {limits.MaxTotalBytes:N0} bytes");
                }

                if (_bytes > (1 << 20) && _bytes > input.Bytes * limits.MaxRatio)
                {
                    throw new InvalidDataException($"the archive expands more than {limits.MaxRatio:G}-fold: a decompression bomb");
                }

                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }

        private string Claim(string name)
        {
            if (!RelativePaths.IsSafe(name))
            {
                throw new InvalidDataException($"'{ClientText.Quote(name)}' is not a safe relative path");
            }

            if (!_paths.Add(name))
            {
                throw new InvalidDataException($"'{ClientText.Quote(name)}' appears twice in the archive");
            }

            if (_paths.Count > limits.MaxEntries)
            {
                throw new InvalidDataException($"the archive has more than {limits.MaxEntries:N0} entries");
            }

            var full = Path.GetFullPath(Path.Combine(root, name));
            return full.StartsWith(Path.GetFullPath(root) + Path.DirectorySeparatorChar, StringComparison.Ordinal)
                ? full
                : throw new InvalidDataException($"'{ClientText.Quote(name)}' leaves the folder");
        }
    }

    /// <summary>Counts the compressed bytes read, for the expansion ratio.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long Bytes { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => Bytes; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = inner.Read(buffer, offset, count);
            Bytes += read;
            return read;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            Bytes += read;
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>The bytes sniffed for the format, then the rest of the stream.</summary>
    private sealed class PrefixedStream(ReadOnlyMemory<byte> prefix, Stream rest) : Stream
    {
        private ReadOnlyMemory<byte> _prefix = prefix;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_prefix.IsEmpty)
            {
                return rest.Read(buffer);
            }

            var count = Math.Min(buffer.Length, _prefix.Length);
            _prefix.Span[..count].CopyTo(buffer);
            _prefix = _prefix[count..];
            return count;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_prefix.IsEmpty)
            {
                return await rest.ReadAsync(buffer, cancellationToken);
            }

            return Read(buffer.Span);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
