using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Turbine.Edge.Updates.Tuf;

namespace Turbine.IntegrationTests.Edge;

/// <summary>
/// Issue 21's signed metadata: Turbine's TUF client and publisher against each other and against tuf-js (npm's own
/// client) as the independent check of the format; every attack TUF names must fail in both clients, and a refused
/// refresh must leave the device's trusted metadata as it was.
/// </summary>
public sealed class TufMetadataTests
{
    [Fact]
    public async Task A_published_repository_refreshes_in_turbine_and_in_tuf_js_including_a_root_rotation()
    {
        using var repository = new TestTufRepository();
        await using var server = await UpdateServer.StartAsync(repository.ServedFolder);
        var target = repository.PublishBlob("bundles/edge-1.tar.gz", 5000, version: 1);

        var targets = await repository.Client(server).RefreshAsync(CancellationToken.None);

        var listed = Assert.Single(targets);
        Assert.Equal(target.Sha256, listed.Sha256);
        Assert.Equal(1, listed.Custom.GetProperty("version").GetInt64());
        var independent = await TufJsAsync(repository, server, "bundles/edge-1.tar.gz");
        Assert.True(independent.GetProperty("ok").GetBoolean(), independent.ToString());
        Assert.Equal(5000, independent.GetProperty("length").GetInt64());

        // A new root key: version 2 is signed by the old root key (the device trusts it) and the new one.
        var oldRoot = repository.Signers["root"].Keys[0];
        var newRoot = TufSigningKey.Generate();
        var rotated = new Dictionary<string, RoleSigners>(repository.Signers) { ["root"] = new([newRoot], 1) };
        new TufPublisher(repository.ServedFolder, rotated, TimeProvider.System).WriteRoot(2, [oldRoot, newRoot]);
        repository.PublishBlob("bundles/edge-2.tar.gz", 6000, version: 2);

        targets = await repository.Client(server).RefreshAsync(CancellationToken.None);

        Assert.Equal(2, targets.Count);
        Assert.Equal(2, RootMetadata.Parse(File.ReadAllBytes(Path.Combine(repository.DeviceTrust, "root.json"))).Metadata.Version);
        independent = await TufJsAsync(repository, server, "bundles/edge-2.tar.gz");
        Assert.True(independent.GetProperty("ok").GetBoolean(), independent.ToString());
        newRoot.Dispose();
    }

    public static TheoryData<string, TufFailure> Attacks() => new()
    {
        { "targets signed by a key root does not list", TufFailure.BadSignature },
        { "timestamp with one of the two signatures its threshold needs", TufFailure.BadSignature },
        { "root version 2 signed only by its own new key", TufFailure.BadSignature },
        { "an expired timestamp (freeze)", TufFailure.Expired },
        { "snapshot of another version than timestamp names (mix-and-match)", TufFailure.VersionMismatch },
        { "a timestamp bigger than any timestamp (endless data)", TufFailure.TooLarge },
        { "snapshot bytes that differ from the digest timestamp signed", TufFailure.DigestMismatch },
    };

    [Theory]
    [MemberData(nameof(Attacks))]
    public async Task Forged_metadata_fails_in_both_clients(string attack, TufFailure expected)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var repository = new TestTufRepository(clock, timestampThreshold: attack.Contains("threshold", StringComparison.Ordinal) ? 2 : 1, timestampKeys: 2);
        await using var server = await UpdateServer.StartAsync(repository.ServedFolder);
        repository.PublishBlob("bundles/edge-1.tar.gz", 1000, version: 1);
        var metadata = repository.Publisher.MetadataFolder;
        var stranger = TufSigningKey.Generate();
        switch (attack)
        {
            case var a when a.StartsWith("targets signed", StringComparison.Ordinal):
                var forged = new Dictionary<string, RoleSigners>(repository.Signers) { ["targets"] = new([stranger], 1) };
                var blob = Path.Combine(repository.Root, "forged");
                File.WriteAllBytes(blob, [1, 2, 3]);
                new TufPublisher(repository.ServedFolder, forged, clock).AddTarget("bundles/edge-2.tar.gz", blob, default);
                break;
            case var a when a.StartsWith("timestamp with one", StringComparison.Ordinal):
                var partial = new Dictionary<string, RoleSigners>(repository.Signers) { ["timestamp"] = new([repository.Signers["timestamp"].Keys[0]], 2) };
                new TufPublisher(repository.ServedFolder, partial, clock).RefreshTimestamp();
                break;
            case var a when a.StartsWith("root version 2", StringComparison.Ordinal):
                var rotated = new Dictionary<string, RoleSigners>(repository.Signers) { ["root"] = new([stranger], 1) };
                new TufPublisher(repository.ServedFolder, rotated, clock).WriteRoot(2, [stranger]);
                break;
            case var a when a.StartsWith("an expired", StringComparison.Ordinal):
                new TufPublisher(repository.ServedFolder, repository.Signers, new FakeTimeProvider(DateTimeOffset.UtcNow - TimeSpan.FromDays(3))).RefreshTimestamp();
                break;
            case var a when a.StartsWith("snapshot of another", StringComparison.Ordinal):
                // Timestamp names snapshot 2 (digest and length dropped, as TUF allows), but 2.snapshot.json is version 1 re-served.
                var meta = new Dictionary<string, MetaFile>(StringComparer.Ordinal) { ["snapshot.json"] = new(3, null, null) };
                File.WriteAllBytes(Path.Combine(metadata, "timestamp.json"), TufMetadataWriter.Sign("timestamp", 9, clock.GetUtcNow().AddDays(1), TufMetadataWriter.MetaBody(meta), repository.Signers["timestamp"].Keys));
                File.Copy(Path.Combine(metadata, "1.snapshot.json"), Path.Combine(metadata, "3.snapshot.json"));
                break;
            case var a when a.StartsWith("a timestamp bigger", StringComparison.Ordinal):
                File.WriteAllText(Path.Combine(metadata, "timestamp.json"), new string(' ', 64 * 1024) + File.ReadAllText(Path.Combine(metadata, "timestamp.json")));
                break;
            case var a when a.StartsWith("snapshot bytes", StringComparison.Ordinal):
                var path = Path.Combine(metadata, "2.snapshot.json");
                var text = File.ReadAllText(path);
                var indent = text.IndexOf("\n  ", StringComparison.Ordinal);
                File.WriteAllText(path, string.Concat(text.AsSpan(0, indent), "\n\t ", text.AsSpan(indent + 3))); // same length, other bytes
                break;
        }

        var client = repository.Client(server, clock);
        var refused = await Assert.ThrowsAsync<TufException>(() => client.RefreshAsync(CancellationToken.None));

        Assert.Equal(expected, refused.Failure);
        Assert.False(File.Exists(Path.Combine(repository.DeviceTrust, "targets.json"))); // no target became trusted
        Assert.Equal(File.ReadAllBytes(repository.TrustedRoot), File.ReadAllBytes(Path.Combine(repository.DeviceTrust, "root.json")));
        var independent = await TufJsAsync(repository, server, "bundles/edge-1.tar.gz");
        Assert.False(independent.GetProperty("ok").GetBoolean(), $"tuf-js accepted {attack}");
        stranger.Dispose();
    }

    [Fact]
    public async Task Metadata_older_than_what_the_device_trusts_is_a_rollback_in_both_clients()
    {
        using var repository = new TestTufRepository();
        await using var server = await UpdateServer.StartAsync(repository.ServedFolder);
        repository.PublishBlob("bundles/edge-1.tar.gz", 1000, version: 1);
        var oldTimestamp = File.ReadAllBytes(Path.Combine(repository.Publisher.MetadataFolder, "timestamp.json"));
        repository.PublishBlob("bundles/edge-2.tar.gz", 1000, version: 2);
        var client = repository.Client(server);
        await client.RefreshAsync(CancellationToken.None);
        var work = Path.Combine(repository.Root, "tuf-js-rollback");
        Assert.True((await TufJsAsync(repository, server, "bundles/edge-2.tar.gz", work)).GetProperty("ok").GetBoolean());

        File.WriteAllBytes(Path.Combine(repository.Publisher.MetadataFolder, "timestamp.json"), oldTimestamp);

        var refused = await Assert.ThrowsAsync<TufException>(() => client.RefreshAsync(CancellationToken.None));
        Assert.Equal(TufFailure.Rollback, refused.Failure);
        Assert.False((await TufJsAsync(repository, server, "bundles/edge-1.tar.gz", work)).GetProperty("ok").GetBoolean());
    }

    [Fact]
    public void Canonical_json_sorts_keys_and_escapes_only_quotes_and_backslashes()
    {
        using var document = JsonDocument.Parse("""{ "b": [1, true, null], "a": "é\"\\\n", "c": { "z": 1, "y": -2 } }""");

        var canonical = System.Text.Encoding.UTF8.GetString(CanonicalJson.Encode(document.RootElement));

        Assert.Equal("{\"a\":\"é\\\"\\\\\n\",\"b\":[1,true,null],\"c\":{\"y\":-2,\"z\":1}}", canonical);
        Assert.Throws<TufException>(() => CanonicalJson.Encode(JsonDocument.Parse("1.5").RootElement));
    }

    /// <summary>Runs tests/tools/edge/tuf-check.mjs: tuf-js refreshes and downloads one target.</summary>
    internal static async Task<JsonElement> TufJsAsync(TestTufRepository repository, UpdateServer server, string target, string? work = null)
    {
        var tools = Path.Combine(CliProcess.RepositoryRoot(), "tests", "tools");
        Assert.True(Directory.Exists(Path.Combine(tools, "node_modules", "tuf-js")), "npm ci --prefix tests/tools installs tuf-js (.ci/run does)");
        work ??= Path.Combine(repository.Root, $"tuf-js-{Guid.NewGuid():N}");
        var (code, output, errors) = await ChildProcess.RunAsync("node", [Path.Combine(tools, "edge", "tuf-check.mjs"), server.MetadataUrl.ToString(), server.TargetsUrl.ToString(), repository.TrustedRoot, work, target]);
        Assert.True(code == 0, errors);
        return JsonDocument.Parse(output).RootElement.Clone();
    }
}
