namespace Turbine.Registry;

/// <summary>
/// Where a version's files are kept, by content: each file under its SHA-256, so the same weights pushed twice are
/// stored once and nothing can overwrite a file with other bytes under the same key.
/// </summary>
public interface IArtifactStore
{
    /// <summary>Stores a file's bytes under their digest, computed as they are read (a blob already there is left alone).</summary>
    /// <returns>The digest and the number of bytes.</returns>
    Task<(string Sha256, long Size)> PutAsync(string sourcePath, CancellationToken cancellationToken);

    /// <summary>Writes the blob to <paramref name="targetPath"/>.</summary>
    /// <exception cref="RegistryException">No such blob.</exception>
    Task GetAsync(string sha256, string targetPath, CancellationToken cancellationToken);
}
