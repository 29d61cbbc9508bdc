using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Turbine.Registry;

/// <summary>One file of a registered version: where it goes (relative, '/'-separated), its size and SHA-256.</summary>
/// <param name="Path">The file's place in the version bundle: the model config at the top (<c>config.json</c> or
/// <c>config.pbtxt</c>), the version folder's files under <c>files/</c>.</param>
/// <param name="Size">Bytes.</param>
/// <param name="Sha256">Lower-case hex digest of the content; also its key in the artifact store.</param>
public sealed record ArtifactFile(string Path, long Size, string Sha256);

/// <summary>
/// What a version is made of, and what its signature covers: the model name, the version number and every file's
/// digest, in one canonical form (files sorted by path, fixed JSON layout) so that the same content always signs and
/// hashes the same. A signature over version 1's manifest does not verify for version 2, nor for another model.
/// </summary>
/// <param name="Model">The registered model.</param>
/// <param name="Version">The version number.</param>
/// <param name="Files">The files, sorted by path.</param>
public sealed record ArtifactManifest(string Model, long Version, IReadOnlyList<ArtifactFile> Files)
{
    /// <summary>The version folder's files sit under this prefix; the model's config sits at the top.</summary>
    public const string FilesPrefix = "files/";

    /// <summary>The bytes that are hashed and signed.</summary>
    public byte[] Canonical()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("model", Model);
            writer.WriteNumber("version", Version);
            WriteFiles(writer);
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>Writes the <c>files</c> array (sorted by path), as the canonical form and the registry's API both show it.</summary>
    public void WriteFiles(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartArray("files");
        foreach (var file in Files.OrderBy(f => f.Path, StringComparer.Ordinal))
        {
            writer.WriteStartObject();
            writer.WriteString("path", file.Path);
            writer.WriteNumber("size", file.Size);
            writer.WriteString("sha256", file.Sha256);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    /// <summary>The manifest's own digest (hex), what the audit trail and reports name a version's content by.</summary>
    public string Digest() => Convert.ToHexStringLower(SHA256.HashData(Canonical()));

    /// <summary>Reads a manifest from its canonical JSON.</summary>
    /// <exception cref="RegistryException">The text is not a manifest, or names a path that is not safe.</exception>
    public static ArtifactManifest Parse(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
            var root = document.RootElement;
            var files = root.GetProperty("files").EnumerateArray()
                .Select(f => new ArtifactFile(BundlePaths.Check(f.GetProperty("path").GetString()!), f.GetProperty("size").GetInt64(), f.GetProperty("sha256").GetString()!))
                .ToList();
            return new ArtifactManifest(root.GetProperty("model").GetString()!, root.GetProperty("version").GetInt64(), files);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new RegistryException($"not a version manifest: {e.Message}");
        }
    }

    /// <summary>The canonical JSON as text (how stores keep it).</summary>
    public string ToJson() => Encoding.UTF8.GetString(Canonical());
}
