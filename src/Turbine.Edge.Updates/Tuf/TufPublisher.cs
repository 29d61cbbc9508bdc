using System.Security.Cryptography;
using System.Text.Json;

namespace Turbine.Edge.Updates.Tuf;

/// <summary>How long each role's metadata stays valid after it is signed.</summary>
/// <param name="Root">Root: rotated rarely, by hand.</param>
/// <param name="Targets">Targets: re-signed with each release.</param>
/// <param name="Snapshot">Snapshot: re-signed with each release.</param>
/// <param name="Timestamp">Timestamp: re-signed often (a device offline longer than this refuses until it is fresh again).</param>
public sealed record TufExpiries(TimeSpan Root, TimeSpan Targets, TimeSpan Snapshot, TimeSpan Timestamp)
{
    /// <summary>A year, three months, a week, a day.</summary>
    public static readonly TufExpiries Default = new(TimeSpan.FromDays(365), TimeSpan.FromDays(90), TimeSpan.FromDays(7), TimeSpan.FromDays(1));
}

/// <summary>A role's signing keys on the publishing side and its threshold.</summary>
/// <param name="Keys">The private keys (all of them sign).</param>
/// <param name="Threshold">How many must sign for a client to accept.</param>
public sealed record RoleSigners(IReadOnlyList<TufSigningKey> Keys, int Threshold);

/// <summary>
/// A TUF repository in a folder that any static HTTPS server can serve: <c>metadata/</c> (versioned root, snapshot and
/// targets files, and <c>timestamp.json</c>) and <c>targets/</c> (each file under its digest-prefixed name). Adding a
/// target signs new targets, snapshot and timestamp versions; files already published never change.
/// </summary>
public sealed class TufPublisher(string folder, IReadOnlyDictionary<string, RoleSigners> signers, TimeProvider time, TufExpiries? expiries = null)
{
    private readonly TufExpiries _expiries = expiries ?? TufExpiries.Default;

    /// <summary>The metadata folder (the agent's metadata URL serves it).</summary>
    public string MetadataFolder => Path.Combine(folder, "metadata");

    /// <summary>The targets folder (the agent's targets URL serves it).</summary>
    public string TargetsFolder => Path.Combine(folder, "targets");

    /// <summary>Writes root version 1 and empty targets, snapshot and timestamp, unless the repository exists.</summary>
    /// <returns>False when it existed already.</returns>
    public bool Initialize()
    {
        if (File.Exists(Path.Combine(MetadataFolder, "1.root.json")))
        {
            return false;
        }

        Directory.CreateDirectory(MetadataFolder);
        Directory.CreateDirectory(TargetsFolder);
        WriteRoot(1, signers["root"].Keys);
        PublishTargets([]);
        return true;
    }

    /// <summary>Signs the next root version with the current root keys and the new ones (both thresholds must hold).</summary>
    public void WriteRoot(long version, IEnumerable<TufSigningKey> signingKeys)
    {
        var roles = RootMetadata.TopLevelRoles.ToDictionary(role => role, role => ((IReadOnlyList<TufKey>)[.. signers[role].Keys.Select(k => k.Public)], signers[role].Threshold));
        var raw = TufMetadataWriter.Sign("root", version, time.GetUtcNow() + _expiries.Root, TufMetadataWriter.RootBody(roles, consistentSnapshot: true), signingKeys.DistinctBy(k => k.Public.Id));
        DurableFile.Write(Path.Combine(MetadataFolder, $"{version}.root.json"), raw);
        DurableFile.Write(Path.Combine(MetadataFolder, "root.json"), raw);
    }

    /// <summary>The targets the newest targets metadata lists.</summary>
    public IReadOnlyList<TargetFile> Targets()
    {
        var current = Path.Combine(MetadataFolder, "targets.json");
        return File.Exists(current) ? TargetFile.ParseAll(SignedMetadata.Parse(File.ReadAllBytes(current), "targets").Signed) : [];
    }

    /// <summary>Copies a file in as a target (replacing one of the same path) and signs new metadata naming it.</summary>
    public TargetFile AddTarget(string path, string sourceFile, JsonElement custom)
    {
        if (path.Length == 0 || path.StartsWith('/') || path.Contains("..", StringComparison.Ordinal) || path.Contains('\\', StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{path}' is not a relative target path", nameof(path));
        }

        var bytes = File.ReadAllBytes(sourceFile);
        var target = new TargetFile(path, bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes)), custom.ValueKind == JsonValueKind.Undefined ? default : custom.Clone());
        var destination = Path.Combine(TargetsFolder, target.RemotePath(consistentSnapshot: true));
        Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
        DurableFile.Write(destination, bytes);
        PublishTargets([.. Targets().Where(t => t.Path != path), target]);
        return target;
    }

    /// <summary>The version of the newest root.</summary>
    public long RootVersion => RootMetadata.Parse(File.ReadAllBytes(Path.Combine(MetadataFolder, "root.json"))).Metadata.Version;

    /// <summary>Signs new targets, snapshot and timestamp versions of the same targets (after a key rotation).</summary>
    public void Republish() => PublishTargets(Targets());

    /// <summary>Re-signs the timestamp alone (run it more often than the timestamp expires).</summary>
    public void RefreshTimestamp()
    {
        var timestamp = SignedMetadata.Parse(File.ReadAllBytes(Path.Combine(MetadataFolder, "timestamp.json")), "timestamp");
        var snapshot = MetaFile.ParseAll(timestamp.Signed, "timestamp")["snapshot.json"];
        WriteTimestamp(timestamp.Version + 1, snapshot);
    }

    private void PublishTargets(IReadOnlyList<TargetFile> targets)
    {
        var targetsVersion = NextVersion("targets");
        var targetsRaw = TufMetadataWriter.Sign("targets", targetsVersion, time.GetUtcNow() + _expiries.Targets, TufMetadataWriter.TargetsBody(targets), signers["targets"].Keys);
        DurableFile.Write(Path.Combine(MetadataFolder, $"{targetsVersion}.targets.json"), targetsRaw);
        DurableFile.Write(Path.Combine(MetadataFolder, "targets.json"), targetsRaw);

        var snapshotVersion = NextVersion("snapshot");
        var snapshotMeta = new Dictionary<string, MetaFile>(StringComparer.Ordinal) { ["targets.json"] = new(targetsVersion, targetsRaw.Length, Digest(targetsRaw)) };
        var snapshotRaw = TufMetadataWriter.Sign("snapshot", snapshotVersion, time.GetUtcNow() + _expiries.Snapshot, TufMetadataWriter.MetaBody(snapshotMeta), signers["snapshot"].Keys);
        DurableFile.Write(Path.Combine(MetadataFolder, $"{snapshotVersion}.snapshot.json"), snapshotRaw);
        DurableFile.Write(Path.Combine(MetadataFolder, "snapshot.json"), snapshotRaw);

        WriteTimestamp(NextVersion("timestamp"), new MetaFile(snapshotVersion, snapshotRaw.Length, Digest(snapshotRaw)));
    }

    private void WriteTimestamp(long version, MetaFile snapshot)
    {
        var meta = new Dictionary<string, MetaFile>(StringComparer.Ordinal) { ["snapshot.json"] = snapshot };
        var raw = TufMetadataWriter.Sign("timestamp", version, time.GetUtcNow() + _expiries.Timestamp, TufMetadataWriter.MetaBody(meta), signers["timestamp"].Keys);
        DurableFile.Write(Path.Combine(MetadataFolder, "timestamp.json"), raw);
    }

    private long NextVersion(string role)
    {
        var current = Path.Combine(MetadataFolder, $"{role}.json");
        return File.Exists(current) ? SignedMetadata.Parse(File.ReadAllBytes(current), role).Version + 1 : 1;
    }

    private static string Digest(byte[] raw) => Convert.ToHexStringLower(SHA256.HashData(raw));
}
