using System.Text.Json;

namespace Turbine.Edge.Updates.Tuf;

/// <summary>A metadata file as the role above lists it: its version, and its length and digest where given.</summary>
/// <param name="Version">The version the role above names.</param>
/// <param name="Length">Its length in bytes, when given.</param>
/// <param name="Sha256">Its hex SHA-256, when given.</param>
public sealed record MetaFile(long Version, long? Length, string? Sha256)
{
    /// <summary>Reads one entry of a <c>meta</c> object.</summary>
    public static MetaFile Parse(JsonElement entry, string where) =>
        new(TufJson.RequiredInteger(entry, "version", where), TufJson.OptionalLength(entry, where), TufJson.OptionalSha256(entry, where));

    /// <summary>Reads the entries of <paramref name="signed"/>'s <c>meta</c> object.</summary>
    public static Dictionary<string, MetaFile> ParseAll(JsonElement signed, string where) =>
        TufJson.RequiredObject(signed, "meta", where).EnumerateObject().ToDictionary(entry => entry.Name, entry => Parse(entry.Value, $"{where} {entry.Name}"), StringComparer.Ordinal);
}

/// <summary>A target file the targets role signs: its path in the repository, its length and digest, its custom fields.</summary>
/// <param name="Path">The path under the targets URL.</param>
/// <param name="Length">The exact length in bytes.</param>
/// <param name="Sha256">The hex SHA-256.</param>
/// <param name="Custom">The custom object (the bundle's version for Turbine), or an undefined element.</param>
public sealed record TargetFile(string Path, long Length, string Sha256, JsonElement Custom)
{
    /// <summary>Reads the targets of a targets role's signed object.</summary>
    public static IReadOnlyList<TargetFile> ParseAll(JsonElement signed)
    {
        var targets = new List<TargetFile>();
        foreach (var target in TufJson.RequiredObject(signed, "targets", "targets").EnumerateObject())
        {
            var where = $"target {target.Name}";
            var sha = TufJson.OptionalSha256(target.Value, where) ?? throw new TufException(TufFailure.Malformed, $"{where} has no sha256");
            var custom = target.Value.TryGetProperty("custom", out var value) ? value.Clone() : default;
            targets.Add(new TargetFile(target.Name, TufJson.RequiredInteger(target.Value, "length", where), sha, custom));
        }

        return targets;
    }

    /// <summary>The name the file has under the targets URL: with consistent snapshots, its digest prefixes its file name.</summary>
    public string RemotePath(bool consistentSnapshot)
    {
        if (!consistentSnapshot)
        {
            return Path;
        }

        var slash = Path.LastIndexOf('/');
        return slash < 0 ? $"{Sha256}.{Path}" : $"{Path[..(slash + 1)]}{Sha256}.{Path[(slash + 1)..]}";
    }
}
