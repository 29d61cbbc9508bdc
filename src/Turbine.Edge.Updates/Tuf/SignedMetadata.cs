using System.Globalization;
using System.Text.Json;

namespace Turbine.Edge.Updates.Tuf;

/// <summary>One role's metadata file: the <c>signed</c> object, its signatures, and the fields every role has.</summary>
public sealed class SignedMetadata
{
    private SignedMetadata(byte[] raw, JsonElement signed, IReadOnlyList<(string KeyId, string Signature)> signatures, string type, long version, DateTimeOffset expires)
    {
        Raw = raw;
        Signed = signed;
        Signatures = signatures;
        Type = type;
        Version = version;
        Expires = expires;
    }

    /// <summary>The file's bytes, as fetched (what is stored once trusted).</summary>
    public byte[] Raw { get; }

    /// <summary>The signed object.</summary>
    public JsonElement Signed { get; }

    /// <summary>The signatures, by key id.</summary>
    public IReadOnlyList<(string KeyId, string Signature)> Signatures { get; }

    /// <summary><c>root</c>, <c>timestamp</c>, <c>snapshot</c> or <c>targets</c>.</summary>
    public string Type { get; }

    /// <summary>The role's version: versions only grow.</summary>
    public long Version { get; }

    /// <summary>When it stops being trusted.</summary>
    public DateTimeOffset Expires { get; }

    /// <summary>Parses a metadata file of the expected role; checks the shape only, not the signatures.</summary>
    public static SignedMetadata Parse(byte[] raw, string expectedType)
    {
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(raw, new JsonDocumentOptions { MaxDepth = 16 });
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new TufException(TufFailure.Malformed, $"{expectedType} metadata is not JSON: {e.Message}", e);
        }

        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("signed", out var signed) || signed.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("signatures", out var signatureArray) || signatureArray.ValueKind != JsonValueKind.Array)
        {
            throw new TufException(TufFailure.Malformed, $"{expectedType} metadata needs \"signed\" and \"signatures\"");
        }

        var type = TufJson.RequiredString(signed, "_type", expectedType);
        if (type != expectedType)
        {
            throw new TufException(TufFailure.Malformed, $"expected {expectedType} metadata, got {type}");
        }

        var specVersion = TufJson.RequiredString(signed, "spec_version", expectedType);
        if (!specVersion.StartsWith("1.", StringComparison.Ordinal))
        {
            throw new TufException(TufFailure.Malformed, $"{expectedType} metadata has spec_version {specVersion}; this client speaks 1.x");
        }

        var version = TufJson.RequiredInteger(signed, "version", expectedType);
        if (version < 1)
        {
            throw new TufException(TufFailure.Malformed, $"{expectedType} version {version} is not positive");
        }

        var expiresText = TufJson.RequiredString(signed, "expires", expectedType);
        if (!DateTimeOffset.TryParseExact(expiresText, "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var expires))
        {
            throw new TufException(TufFailure.Malformed, $"{expectedType} expires '{expiresText}' is not YYYY-MM-DDTHH:MM:SSZ");
        }

        var signatures = new List<(string, string)>();
        foreach (var signature in signatureArray.EnumerateArray())
        {
            if (signature.ValueKind == JsonValueKind.Object
                && signature.TryGetProperty("keyid", out var keyId) && keyId.ValueKind == JsonValueKind.String
                && signature.TryGetProperty("sig", out var sig) && sig.ValueKind == JsonValueKind.String)
            {
                signatures.Add((keyId.GetString()!, sig.GetString()!));
            }
        }

        return new SignedMetadata(raw, signed, signatures, type, version, expires);
    }

    /// <summary>
    /// Checks that at least the role's threshold of its distinct keys signed the canonical form of <see cref="Signed"/>;
    /// a signature by a key the role does not list, or a second one by the same key, counts for nothing.
    /// </summary>
    public void VerifyThreshold(RootMetadata root, string role)
    {
        var keys = root.Roles[role];
        var canonical = CanonicalJson.Encode(Signed);
        var valid = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (keyId, signature) in Signatures)
        {
            if (keys.KeyIds.Contains(keyId) && root.Keys.TryGetValue(keyId, out var key) && key.Verifies(canonical, signature))
            {
                valid.Add(keyId);
            }
        }

        if (valid.Count < keys.Threshold)
        {
            throw new TufException(TufFailure.BadSignature, $"{Type} version {Version} has {valid.Count} valid signature(s) from the {role} role's keys; its threshold is {keys.Threshold}");
        }
    }

    /// <summary>Refuses metadata past its expiry (a freeze attack holds back new versions until the old ones expire).</summary>
    public void EnsureNotExpired(DateTimeOffset now)
    {
        if (Expires <= now)
        {
            throw new TufException(TufFailure.Expired, $"{Type} version {Version} expired at {Expires:u}");
        }
    }
}
