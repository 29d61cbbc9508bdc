using System.Text.Json;

namespace Turbine.Edge.Updates.Tuf;

/// <summary>The keys a role signs with and how many of them must sign.</summary>
/// <param name="KeyIds">The role's key ids.</param>
/// <param name="Threshold">The least number of distinct keys whose signatures make its metadata valid.</param>
public sealed record RoleKeys(IReadOnlySet<string> KeyIds, int Threshold);

/// <summary>The root role's view: every top-level role's keys and threshold, and whether snapshots are consistent.</summary>
public sealed class RootMetadata
{
    /// <summary>The four top-level roles, all of which root must define.</summary>
    public static readonly string[] TopLevelRoles = ["root", "timestamp", "snapshot", "targets"];

    private RootMetadata(SignedMetadata metadata, IReadOnlyDictionary<string, TufKey> keys, IReadOnlyDictionary<string, RoleKeys> roles, bool consistentSnapshot)
    {
        Metadata = metadata;
        Keys = keys;
        Roles = roles;
        ConsistentSnapshot = consistentSnapshot;
    }

    /// <summary>The file it was read from.</summary>
    public SignedMetadata Metadata { get; }

    /// <summary>Keys by id.</summary>
    public IReadOnlyDictionary<string, TufKey> Keys { get; }

    /// <summary>Keys and threshold of each top-level role.</summary>
    public IReadOnlyDictionary<string, RoleKeys> Roles { get; }

    /// <summary>Whether snapshot and targets metadata and target files are fetched by versioned or hashed names.</summary>
    public bool ConsistentSnapshot { get; }

    /// <summary>Reads root metadata (shape only; the caller verifies its signatures).</summary>
    public static RootMetadata Parse(byte[] raw)
    {
        var metadata = SignedMetadata.Parse(raw, "root");
        var keys = new Dictionary<string, TufKey>(StringComparer.Ordinal);
        foreach (var key in TufJson.RequiredObject(metadata.Signed, "keys", "root").EnumerateObject())
        {
            // Keys whose type this client does not know are skipped: a role they alone serve cannot reach its threshold.
            try
            {
                keys[key.Name] = TufKey.FromJson(key.Value);
            }
            catch (TufException)
            {
            }
        }

        var roles = new Dictionary<string, RoleKeys>(StringComparer.Ordinal);
        var roleObject = TufJson.RequiredObject(metadata.Signed, "roles", "root");
        foreach (var name in TopLevelRoles)
        {
            var role = TufJson.RequiredObject(roleObject, name, "root roles");
            var threshold = TufJson.RequiredInteger(role, "threshold", $"root role {name}");
            if (threshold < 1 || !role.TryGetProperty("keyids", out var ids) || ids.ValueKind != JsonValueKind.Array)
            {
                throw new TufException(TufFailure.Malformed, $"root role {name} needs keyids and a threshold of at least 1");
            }

            roles[name] = new RoleKeys(ids.EnumerateArray().Select(id => id.GetString() ?? string.Empty).ToHashSet(StringComparer.Ordinal), (int)Math.Min(threshold, int.MaxValue));
        }

        var consistent = metadata.Signed.TryGetProperty("consistent_snapshot", out var flag) && flag.ValueKind == JsonValueKind.True;
        return new RootMetadata(metadata, keys, roles, consistent);
    }
}
