using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace Turbine.Edge.Updates.Tuf;

/// <summary>
/// Writes signed metadata files: the role's <c>signed</c> object in canonical form, signed by each key given. The
/// publishing side (<see cref="TufPublisher"/>, <c>turbine edge</c>) and the tests that forge bad metadata use it.
/// </summary>
public static class TufMetadataWriter
{
    /// <summary>The specification version written.</summary>
    public const string SpecVersion = "1.0.31";

    /// <summary>Signs a role's body (the fields after <c>_type</c>, <c>spec_version</c>, <c>version</c> and <c>expires</c>).</summary>
    public static byte[] Sign(string type, long version, DateTimeOffset expires, Action<Utf8JsonWriter> body, IEnumerable<TufSigningKey> keys)
    {
        var signedBuffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(signedBuffer))
        {
            writer.WriteStartObject();
            writer.WriteString("_type", type);
            writer.WriteString("spec_version", SpecVersion);
            writer.WriteNumber("version", version);
            writer.WriteString("expires", expires.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
            body(writer);
            writer.WriteEndObject();
        }

        using var signed = JsonDocument.Parse(signedBuffer.WrittenMemory);
        var canonical = CanonicalJson.Encode(signed.RootElement);
        var file = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("signatures");
            foreach (var key in keys)
            {
                writer.WriteStartObject();
                writer.WriteString("keyid", key.Public.Id);
                writer.WriteString("sig", key.Sign(canonical));
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WritePropertyName("signed");
            signed.RootElement.WriteTo(writer);
            writer.WriteEndObject();
        }

        return file.WrittenSpan.ToArray();
    }

    /// <summary>A root body: every role's keys and threshold.</summary>
    public static Action<Utf8JsonWriter> RootBody(IReadOnlyDictionary<string, (IReadOnlyList<TufKey> Keys, int Threshold)> roles, bool consistentSnapshot) => writer =>
    {
        writer.WriteBoolean("consistent_snapshot", consistentSnapshot);
        writer.WriteStartObject("keys");
        foreach (var key in roles.Values.SelectMany(role => role.Keys).DistinctBy(key => key.Id))
        {
            writer.WritePropertyName(key.Id);
            key.WriteTo(writer);
        }

        writer.WriteEndObject();
        writer.WriteStartObject("roles");
        foreach (var (name, role) in roles)
        {
            writer.WriteStartObject(name);
            writer.WriteStartArray("keyids");
            foreach (var key in role.Keys)
            {
                writer.WriteStringValue(key.Id);
            }

            writer.WriteEndArray();
            writer.WriteNumber("threshold", role.Threshold);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    };

    /// <summary>A timestamp or snapshot body: the <c>meta</c> entries it names.</summary>
    public static Action<Utf8JsonWriter> MetaBody(IReadOnlyDictionary<string, MetaFile> meta) => writer =>
    {
        writer.WriteStartObject("meta");
        foreach (var (name, file) in meta)
        {
            writer.WriteStartObject(name);
            if (file.Length is { } length)
            {
                writer.WriteNumber("length", length);
            }

            if (file.Sha256 is { } sha)
            {
                writer.WriteStartObject("hashes");
                writer.WriteString("sha256", sha);
                writer.WriteEndObject();
            }

            writer.WriteNumber("version", file.Version);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    };

    /// <summary>A targets body: each target's length, digest and custom object.</summary>
    public static Action<Utf8JsonWriter> TargetsBody(IEnumerable<TargetFile> targets) => writer =>
    {
        writer.WriteStartObject("targets");
        foreach (var target in targets)
        {
            writer.WriteStartObject(target.Path);
            if (target.Custom.ValueKind == JsonValueKind.Object)
            {
                writer.WritePropertyName("custom");
                target.Custom.WriteTo(writer);
            }

            writer.WriteStartObject("hashes");
            writer.WriteString("sha256", target.Sha256);
            writer.WriteEndObject();
            writer.WriteNumber("length", target.Length);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    };
}
