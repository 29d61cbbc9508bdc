using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Turbine.Edge.Updates.Tuf;

/// <summary>
/// A public key as TUF's metadata lists it: ECDSA over NIST P-256 with SHA-256 (keytype <c>ecdsa</c>, scheme
/// <c>ecdsa-sha2-nistp256</c>, the key as a PEM SubjectPublicKeyInfo, signatures DER-encoded and hex-written), the
/// scheme securesystemslib and tuf-js both verify. Its id is the SHA-256 of its canonical JSON.
/// </summary>
public sealed class TufKey
{
    /// <summary>The only key type accepted.</summary>
    public const string KeyType = "ecdsa";

    /// <summary>The only signature scheme accepted.</summary>
    public const string Scheme = "ecdsa-sha2-nistp256";

    private readonly byte[] _subjectPublicKeyInfo;

    private TufKey(string publicPem, byte[] subjectPublicKeyInfo)
    {
        PublicPem = publicPem;
        _subjectPublicKeyInfo = subjectPublicKeyInfo;
        Id = Convert.ToHexStringLower(SHA256.HashData(CanonicalJson.Encode(JsonDocument.Parse(ToJson()).RootElement)));
    }

    /// <summary>The key id: the hex SHA-256 of the key's canonical JSON.</summary>
    public string Id { get; }

    /// <summary>The public key in PEM.</summary>
    public string PublicPem { get; }

    /// <summary>Reads a key from its metadata object (<c>keytype</c>, <c>scheme</c>, <c>keyval.public</c>).</summary>
    public static TufKey FromJson(JsonElement key)
    {
        if (key.ValueKind != JsonValueKind.Object
            || Text(key, "keytype") != KeyType || Text(key, "scheme") != Scheme
            || !key.TryGetProperty("keyval", out var value) || value.ValueKind != JsonValueKind.Object || Text(value, "public") is not { } pem)
        {
            throw new TufException(TufFailure.Malformed, $"only {KeyType} keys with the {Scheme} scheme and a PEM public key are accepted");
        }

        return FromPem(pem);
    }

    /// <summary>Reads a PEM public key (SubjectPublicKeyInfo for P-256).</summary>
    public static TufKey FromPem(string pem)
    {
        using var ecdsa = ECDsa.Create();
        try
        {
            ecdsa.ImportFromPem(pem);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            throw new TufException(TufFailure.Malformed, $"not a PEM ECDSA public key: {e.Message}", e);
        }

        if (ecdsa.KeySize != 256)
        {
            throw new TufException(TufFailure.Malformed, $"the key is on a {ecdsa.KeySize}-bit curve; {Scheme} needs P-256");
        }

        var spki = ecdsa.ExportSubjectPublicKeyInfo();
        return new TufKey(PemEncoding.WriteString("PUBLIC KEY", spki) + "\n", spki);
    }

    /// <summary>Whether <paramref name="signatureHex"/> is this key's signature over <paramref name="data"/>.</summary>
    public bool Verifies(ReadOnlySpan<byte> data, string signatureHex)
    {
        byte[] signature;
        try
        {
            signature = Convert.FromHexString(signatureHex);
        }
        catch (FormatException)
        {
            return false;
        }

        using var ecdsa = ECDsa.Create();
        ecdsa.ImportSubjectPublicKeyInfo(_subjectPublicKeyInfo, out _);
        try
        {
            return ecdsa.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <summary>The key's metadata object.</summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            WriteTo(writer);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Writes the key's metadata object.</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("keytype", KeyType);
        writer.WriteStartObject("keyval");
        writer.WriteString("public", PublicPem);
        writer.WriteEndObject();
        writer.WriteString("scheme", Scheme);
        writer.WriteEndObject();
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
