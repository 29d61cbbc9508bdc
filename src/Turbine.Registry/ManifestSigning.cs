using System.Security.Cryptography;

namespace Turbine.Registry;

/// <summary>
/// Signs version manifests with an ECDSA P-256 key (SHA-256 over the canonical manifest), naming the signer by a name
/// and the key's id: the first 16 hex digits of the SHA-256 of its public key (SubjectPublicKeyInfo).
/// </summary>
public sealed class ManifestSigner : IDisposable
{
    private readonly ECDsa _key;

    private ManifestSigner(ECDsa key, string name)
    {
        _key = key;
        Identity = $"{name} ({KeyId(key)})";
    }

    /// <summary>The signer as recorded with each version: <c>name (key id)</c>.</summary>
    public string Identity { get; }

    /// <summary>A signer from a PEM private key file (<c>-----BEGIN EC PRIVATE KEY-----</c> or PKCS#8).</summary>
    /// <exception cref="RegistryException">The file holds no P-256 private key.</exception>
    public static ManifestSigner FromPemFile(string path, string name)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(File.ReadAllText(path));
            if (key.KeySize != 256)
            {
                throw new RegistryException($"{Path.GetFileName(path)}: a P-256 key is needed, not a {key.KeySize}-bit one");
            }

            _ = key.ExportParameters(includePrivateParameters: true); // a public key cannot sign
            return new ManifestSigner(key, name);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new RegistryException($"{Path.GetFileName(path)} holds no ECDSA P-256 private key: {e.Message}");
        }
    }

    /// <summary>The base64 signature of <paramref name="manifest"/>.</summary>
    public string Sign(ArtifactManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return Convert.ToBase64String(_key.SignData(manifest.Canonical(), HashAlgorithmName.SHA256));
    }

    /// <inheritdoc />
    public void Dispose() => _key.Dispose();

    /// <summary>The key id of a key: its public half, hashed.</summary>
    public static string KeyId(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()))[..16];
    }
}

/// <summary>
/// Checks a version before it is used: every file's digest against the manifest (done by the materializer as it
/// writes) and the manifest's signature against the trusted public keys, by the signer's key id.
/// </summary>
public sealed class SignatureVerifier : IDisposable
{
    private readonly Dictionary<string, ECDsa> _trusted = new(StringComparer.Ordinal);

    /// <summary>A verifier trusting the public keys in these PEM files.</summary>
    /// <exception cref="RegistryException">A file holds no P-256 public key.</exception>
    public static SignatureVerifier FromPemFiles(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var verifier = new SignatureVerifier();
        foreach (var path in paths)
        {
            var key = ECDsa.Create();
            try
            {
                key.ImportFromPem(File.ReadAllText(path));
            }
            catch (Exception e) when (e is ArgumentException or CryptographicException)
            {
                key.Dispose();
                verifier.Dispose();
                throw new RegistryException($"{Path.GetFileName(path)} holds no ECDSA public key: {e.Message}");
            }

            verifier._trusted[ManifestSigner.KeyId(key)] = key;
        }

        return verifier;
    }

    /// <summary>Null when the version's signature is good; else why not, in words.</summary>
    public string? Check(ModelVersion version)
    {
        ArgumentNullException.ThrowIfNull(version);
        if (version.Signature is null || version.Signer is null)
        {
            return $"{version.Model} version {version.Version} is not signed";
        }

        var keyId = version.Signer.Length > 18 && version.Signer.EndsWith(')') ? version.Signer[^17..^1] : string.Empty;
        if (!_trusted.TryGetValue(keyId, out var key))
        {
            return $"{version.Model} version {version.Version} is signed by {ClientText.Quote(version.Signer)}, whose key is not trusted here";
        }

        byte[] signature;
        try
        {
            signature = Convert.FromBase64String(version.Signature);
        }
        catch (FormatException)
        {
            return $"{version.Model} version {version.Version}: the signature is not base64";
        }

        return key.VerifyData(version.Manifest.Canonical(), signature, HashAlgorithmName.SHA256)
            ? null
            : $"{version.Model} version {version.Version}: the signature does not match the manifest (tampered, or another version's)";
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var key in _trusted.Values)
        {
            key.Dispose();
        }
    }
}
