using System.Net;
using System.Security.Cryptography;

namespace Turbine.Edge.Updates.Tuf;

/// <summary>
/// The TUF client workflow (specification 1.0, section 5) over HTTP, for the top-level roles: new root versions one
/// by one (each signed by the old root and by itself), then timestamp, snapshot and targets, each verified against
/// root's keys and thresholds, checked for rollback, for the version the role above names (mix-and-match) and for
/// expiry (freeze). What it trusts lives in one folder and only changes by atomic replacement after a check passes;
/// a refused refresh leaves it as it was. Delegated targets roles are not followed.
/// </summary>
public sealed class TufClient(HttpClient http, Uri metadataUrl, string trustedFolder, TimeProvider time, TufLimits? limits = null)
{
    private readonly TufLimits _limits = limits ?? TufLimits.Default;

    /// <summary>The trusted root file's path (provisioned with the device; rotated by refreshes).</summary>
    public string TrustedRootPath => Path.Combine(trustedFolder, "root.json");

    /// <summary>Whether the newest trusted root asks for digest-prefixed target names.</summary>
    public bool ConsistentSnapshot => RootMetadata.Parse(File.ReadAllBytes(TrustedRootPath)).ConsistentSnapshot;

    /// <summary>Refreshes every top-level role and returns the targets now trusted.</summary>
    public async Task<IReadOnlyList<TargetFile>> RefreshAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(TrustedRootPath))
        {
            throw new TufException(TufFailure.Malformed, $"no trusted root at {TrustedRootPath}: provision the device with the repository's root.json");
        }

        var root = await UpdateRootAsync(RootMetadata.Parse(await File.ReadAllBytesAsync(TrustedRootPath, cancellationToken)), cancellationToken);
        root.Metadata.EnsureNotExpired(time.GetUtcNow());
        var timestamp = await UpdateTimestampAsync(root, cancellationToken);
        var snapshot = await UpdateSnapshotAsync(root, timestamp, cancellationToken);
        var targets = await UpdateTargetsAsync(root, snapshot, cancellationToken);
        return TargetFile.ParseAll(targets.Signed);
    }

    private async Task<RootMetadata> UpdateRootAsync(RootMetadata trusted, CancellationToken cancellationToken)
    {
        for (var rotation = 0; rotation < _limits.MaxRootRotations; rotation++)
        {
            var next = trusted.Metadata.Version + 1;
            if (await FetchAsync($"{next}.root.json", _limits.Root, allowMissing: true, cancellationToken) is not { } raw)
            {
                break;
            }

            var candidate = RootMetadata.Parse(raw);
            candidate.Metadata.VerifyThreshold(trusted, "root");
            candidate.Metadata.VerifyThreshold(candidate, "root");
            if (candidate.Metadata.Version != next)
            {
                throw new TufException(TufFailure.VersionMismatch, $"{next}.root.json says version {candidate.Metadata.Version}");
            }

            // New timestamp or snapshot keys mean the old versions may have come from a compromised key: start over
            // from what the new keys sign (the specification's fast-forward attack recovery).
            if (!SameKeys(trusted, candidate, "timestamp") || !SameKeys(trusted, candidate, "snapshot"))
            {
                Forget("timestamp.json");
            }

            if (!SameKeys(trusted, candidate, "snapshot") || !SameKeys(trusted, candidate, "targets"))
            {
                Forget("snapshot.json");
                Forget("targets.json");
            }

            DurableFile.Write(TrustedRootPath, raw);
            trusted = candidate;
        }

        return trusted;
    }

    private async Task<SignedMetadata> UpdateTimestampAsync(RootMetadata root, CancellationToken cancellationToken)
    {
        var fresh = SignedMetadata.Parse(await FetchAsync("timestamp.json", _limits.Timestamp, allowMissing: false, cancellationToken) ?? [], "timestamp");
        fresh.VerifyThreshold(root, "timestamp");
        if (Trusted("timestamp") is { } trusted)
        {
            if (fresh.Version < trusted.Version)
            {
                throw new TufException(TufFailure.Rollback, $"timestamp version {fresh.Version} is older than the trusted {trusted.Version}");
            }

            if (SnapshotEntry(fresh).Version < SnapshotEntry(trusted).Version)
            {
                throw new TufException(TufFailure.Rollback, $"timestamp names snapshot version {SnapshotEntry(fresh).Version}, older than the trusted {SnapshotEntry(trusted).Version}");
            }
        }

        fresh.EnsureNotExpired(time.GetUtcNow());
        DurableFile.Write(TrustedPath("timestamp"), fresh.Raw);
        return fresh;
    }

    private async Task<SignedMetadata> UpdateSnapshotAsync(RootMetadata root, SignedMetadata timestamp, CancellationToken cancellationToken)
    {
        var entry = SnapshotEntry(timestamp);
        var trusted = Trusted("snapshot");
        SignedMetadata fresh;
        if (trusted is not null && trusted.Version == entry.Version)
        {
            fresh = trusted; // nothing new: keep what was verified before (its expiry is still checked below)
        }
        else
        {
            fresh = await FetchNamedVersionAsync(root, "snapshot", "timestamp", entry, _limits.Snapshot, cancellationToken);

            if (trusted is not null)
            {
                var fresher = MetaFile.ParseAll(fresh.Signed, "snapshot");
                foreach (var (name, old) in MetaFile.ParseAll(trusted.Signed, "snapshot"))
                {
                    if (!fresher.TryGetValue(name, out var now) || now.Version < old.Version)
                    {
                        throw new TufException(TufFailure.Rollback, $"snapshot version {fresh.Version} lists {name} at {(now is null ? "no version" : $"version {now.Version}")}, behind the trusted {old.Version}");
                    }
                }
            }
        }

        fresh.EnsureNotExpired(time.GetUtcNow());
        if (!ReferenceEquals(fresh, trusted))
        {
            DurableFile.Write(TrustedPath("snapshot"), fresh.Raw);
        }

        return fresh;
    }

    private async Task<SignedMetadata> UpdateTargetsAsync(RootMetadata root, SignedMetadata snapshot, CancellationToken cancellationToken)
    {
        if (!MetaFile.ParseAll(snapshot.Signed, "snapshot").TryGetValue("targets.json", out var entry))
        {
            throw new TufException(TufFailure.Malformed, "snapshot does not list targets.json");
        }

        var trusted = Trusted("targets");
        SignedMetadata fresh;
        if (trusted is not null && trusted.Version == entry.Version)
        {
            fresh = trusted;
        }
        else
        {
            fresh = await FetchNamedVersionAsync(root, "targets", "snapshot", entry, _limits.Targets, cancellationToken);
        }

        fresh.EnsureNotExpired(time.GetUtcNow());
        if (!ReferenceEquals(fresh, trusted))
        {
            DurableFile.Write(TrustedPath("targets"), fresh.Raw);
        }

        return fresh;
    }

    /// <summary>
    /// Fetches the version of <paramref name="role"/> that <paramref name="namedBy"/> names (by its versioned name under
    /// consistent snapshots), within the length it gives, and checks its digest, signatures and version.
    /// </summary>
    private async Task<SignedMetadata> FetchNamedVersionAsync(RootMetadata root, string role, string namedBy, MetaFile entry, long defaultLimit, CancellationToken cancellationToken)
    {
        var raw = await FetchAsync(root.ConsistentSnapshot ? $"{entry.Version}.{role}.json" : $"{role}.json", entry.Length ?? defaultLimit, allowMissing: false, cancellationToken) ?? [];
        CheckDigest(raw, entry, role);
        var fresh = SignedMetadata.Parse(raw, role);
        fresh.VerifyThreshold(root, role);
        return fresh.Version == entry.Version
            ? fresh
            : throw new TufException(TufFailure.VersionMismatch, $"{role} version {fresh.Version} is not the {entry.Version} that {namedBy} names");
    }

    private static MetaFile SnapshotEntry(SignedMetadata timestamp) =>
        MetaFile.ParseAll(timestamp.Signed, "timestamp").TryGetValue("snapshot.json", out var entry)
            ? entry
            : throw new TufException(TufFailure.Malformed, "timestamp does not name snapshot.json");

    private static void CheckDigest(byte[] raw, MetaFile entry, string role)
    {
        if (entry.Sha256 is { } expected && Convert.ToHexStringLower(SHA256.HashData(raw)) != expected)
        {
            throw new TufException(TufFailure.DigestMismatch, $"{role} metadata's SHA-256 is not the one the role above signed");
        }
    }

    private static bool SameKeys(RootMetadata before, RootMetadata after, string role) => before.Roles[role].KeyIds.SetEquals(after.Roles[role].KeyIds);

    private string TrustedPath(string role) => Path.Combine(trustedFolder, $"{role}.json");

    private SignedMetadata? Trusted(string role)
    {
        var path = TrustedPath(role);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return SignedMetadata.Parse(File.ReadAllBytes(path), role);
        }
        catch (TufException)
        {
            return null; // unreadable local metadata is treated as absent: the root's keys still gate what replaces it
        }
    }

    private void Forget(string file) => File.Delete(Path.Combine(trustedFolder, file));

    private async Task<byte[]?> FetchAsync(string name, long limit, bool allowMissing, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.GetAsync(new Uri(metadataUrl, name), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new TufException(TufFailure.Unavailable, $"{name}: {e.Message}", e);
        }

        using (response)
        {
            if (allowMissing && response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Forbidden)
            {
                return null;
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new TufException(TufFailure.Unavailable, $"{name}: the repository answered {(int)response.StatusCode}");
            }

            if (response.Content.Headers.ContentLength > limit)
            {
                throw new TufException(TufFailure.TooLarge, $"{name} is {response.Content.Headers.ContentLength} bytes; at most {limit} are read");
            }

            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    throw new TufException(TufFailure.TooLarge, $"{name} is longer than the {limit} bytes read at most");
                }

                buffer.Write(chunk, 0, read);
            }

            return buffer.ToArray();
        }
    }
}
