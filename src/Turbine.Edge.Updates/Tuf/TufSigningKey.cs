using System.Security.Cryptography;

namespace Turbine.Edge.Updates.Tuf;

/// <summary>A role's private key on the publishing side (never on a device): ECDSA P-256, kept as PKCS#8 PEM.</summary>
public sealed class TufSigningKey : IDisposable
{
    private readonly ECDsa _ecdsa;

    private TufSigningKey(ECDsa ecdsa)
    {
        _ecdsa = ecdsa;
        Public = TufKey.FromPem(ecdsa.ExportSubjectPublicKeyInfoPem());
    }

    /// <summary>The public half, as metadata lists it.</summary>
    public TufKey Public { get; }

    /// <summary>A new random key.</summary>
    public static TufSigningKey Generate() => new(ECDsa.Create(ECCurve.NamedCurves.nistP256));

    /// <summary>Reads a PKCS#8 (or SEC1) PEM private key.</summary>
    public static TufSigningKey FromPem(string pem)
    {
        var ecdsa = ECDsa.Create();
        try
        {
            ecdsa.ImportFromPem(pem);
            return ecdsa.KeySize == 256 ? new TufSigningKey(ecdsa) : throw new TufException(TufFailure.Malformed, "the signing key must be on P-256");
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            ecdsa.Dispose();
            throw new TufException(TufFailure.Malformed, $"not a PEM ECDSA private key: {e.Message}", e);
        }
    }

    /// <summary>The private key as PKCS#8 PEM.</summary>
    public string ToPem() => _ecdsa.ExportPkcs8PrivateKeyPem() + "\n";

    /// <summary>The hex DER signature over <paramref name="data"/>.</summary>
    public string Sign(ReadOnlySpan<byte> data) =>
        Convert.ToHexStringLower(_ecdsa.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));

    /// <inheritdoc/>
    public void Dispose() => _ecdsa.Dispose();
}
