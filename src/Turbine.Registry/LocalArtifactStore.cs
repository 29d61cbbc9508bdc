using System.Security.Cryptography;

namespace Turbine.Registry;

/// <summary>
/// Artifacts in a local folder, one file per digest (<c>sha256/ab/abcdef...</c>), written under <c>incoming/</c> and
/// renamed into place once their digest is known, so a process killed mid-push leaves at most a stray temporary file,
/// never a blob with the wrong bytes under a digest (SECURITY.md F1).
/// </summary>
public sealed class LocalArtifactStore(string root) : IArtifactStore
{
    /// <inheritdoc />
    public async Task<(string Sha256, long Size)> PutAsync(string sourcePath, CancellationToken cancellationToken)
    {
        // Hashed as it is copied, so each file is read once; the blob takes its name once the bytes are known.
        var incoming = Path.Combine(root, "incoming");
        Directory.CreateDirectory(incoming);
        var temporary = Path.Combine(incoming, $"{Guid.NewGuid():N}.partial");
        try
        {
            string digest;
            long size = 0;
            await using (var source = File.OpenRead(sourcePath))
            await using (var output = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var buffer = new byte[1 << 16];
                int read;
                while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    size += read;
                }

                digest = Convert.ToHexStringLower(hash.GetHashAndReset());
                await output.FlushAsync(cancellationToken);
                output.Flush(flushToDisk: true);
            }

            var target = PathOf(digest);
            if (!File.Exists(target))
            {
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Move(temporary, target);
            }

            return (digest, size);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <inheritdoc />
    public async Task GetAsync(string sha256, string targetPath, CancellationToken cancellationToken)
    {
        var source = PathOf(sha256);
        if (!File.Exists(source))
        {
            throw new RegistryException($"the artifact store has no blob {sha256}") { NotFound = true };
        }

        await using var input = File.OpenRead(source);
        await using var output = File.Create(targetPath);
        await input.CopyToAsync(output, cancellationToken);
    }

    private string PathOf(string sha256) => IsDigest(sha256)
        ? Path.Combine(root, "sha256", sha256[..2], sha256)
        : throw new RegistryException($"'{ClientText.Quote(sha256)}' is not a SHA-256 digest");

    /// <summary>64 lower-case hex digits: the only keys the stores accept (no path can hide in one).</summary>
    public static bool IsDigest(string text) => text.Length == 64 && text.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');
}
