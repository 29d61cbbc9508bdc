using System.Text.Json;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.IntegrationTests.Edge;

/// <summary>
/// The whole operator's path of docs/EDGE.md with the two command lines: <c>turbine edge init|bundle|publish|timestamp</c>
/// on the publishing side, <c>turbine-edge agent provision|run|status|rollback</c> on the device; tuf-js reads the
/// repository the CLI made.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class EdgePublishingTests
{
    [Fact]
    public async Task A_repository_made_with_the_cli_updates_a_provisioned_device_and_an_operator_rolls_it_back()
    {
        var work = Directory.CreateTempSubdirectory("turbine-edge-publish-").FullName;
        var repository = Path.Combine(work, "repository");
        var keys = Path.Combine(work, "keys");
        await CliProcess.RunAsync("edge", "init", repository, "--keys", keys, "--root-keys", "3", "--root-threshold", "2");
        Assert.Equal(3, Directory.GetFiles(keys, "root-*.pem").Length);
        await using var device = await EdgeDevice.ForRepositoryAsync(work);
        await EdgeDevice.RunEdgeAsync("agent", "provision", "--root", device.Layout.Root, "--trusted-root", Path.Combine(repository, "metadata", "1.root.json"));

        await CliProcess.RunAsync("edge", "publish", repository, "--keys", keys, "--bundle", await BundleAsync(work, 1));
        var agent = device.Start();
        await agent.WaitForAsync("committed slot a (version 1)"); // a device with no factory bundle takes its first one as an update
        await CliProcess.RunAsync("edge", "publish", repository, "--keys", keys, "--bundle", await BundleAsync(work, 2));
        await agent.WaitForAsync("committed slot b (version 2)");
        Assert.Equal(0, await agent.StopAsync());

        var status = JsonDocument.Parse(await EdgeDevice.RunEdgeAsync("agent", "status", "--root", device.Layout.Root)).RootElement;
        Assert.Equal(("b", "a"), (status.GetProperty("active").GetString(), status.GetProperty("previous").GetString()));
        Assert.Contains("slot a (version 1) is active again", await EdgeDevice.RunEdgeAsync("agent", "rollback", "--root", device.Layout.Root), StringComparison.Ordinal);

        await CliProcess.RunAsync("edge", "timestamp", repository, "--keys", keys);
        agent = device.Start();
        var address = await agent.ServingAsync("slot a (version 1) serves at");
        await agent.WaitForAsync("no update: version 1 is the newest this device takes"); // 2 was rolled back by hand: not again
        Assert.Equal("1", await EdgeDevice.InferAsync(address));

        var tufJs = Path.Combine(CliProcess.RepositoryRoot(), "tests", "tools", "edge", "tuf-check.mjs");
        var (code, output, errors) = await ChildProcess.RunAsync("node", [tufJs, device.Server.MetadataUrl.ToString(), device.Server.TargetsUrl.ToString(), Path.Combine(repository, "metadata", "1.root.json"), Path.Combine(work, "tuf-js"), "bundles/edge-2.tar.gz"]);
        Assert.True(code == 0, errors);
        Assert.True(JsonDocument.Parse(output).RootElement.GetProperty("ok").GetBoolean(), output);
    }

    [Fact]
    public async Task Rotated_keys_reach_a_device_through_its_old_root_and_a_retired_key_signs_nothing_it_accepts()
    {
        var work = Directory.CreateTempSubdirectory("turbine-edge-rotate-").FullName;
        var repository = Path.Combine(work, "repository");
        var keys = Path.Combine(work, "keys");
        await CliProcess.RunAsync("edge", "init", repository, "--keys", keys);
        await CliProcess.RunAsync("edge", "publish", repository, "--keys", keys, "--bundle", await BundleAsync(work, 1));
        await using var device = await EdgeDevice.ForRepositoryAsync(work);
        var trust = Directory.CreateDirectory(Path.Combine(work, "trust")).FullName;
        var provisioned = Path.Combine(repository, "metadata", "1.root.json");
        File.Copy(provisioned, Path.Combine(trust, "root.json"));
        using var http = new HttpClient();
        var client = new Turbine.Edge.Updates.Tuf.TufClient(http, device.Server.MetadataUrl, trust, TimeProvider.System);
        Assert.Single(await client.RefreshAsync(CancellationToken.None));

        Assert.Contains("rotated timestamp: root version 2", await CliProcess.RunAsync("edge", "rotate", repository, "--keys", keys, "--role", "timestamp"), StringComparison.Ordinal);
        Assert.Contains("rotated root: root version 3, 2 new key(s), threshold 2", await CliProcess.RunAsync("edge", "rotate", repository, "--keys", keys, "--role", "root", "--keys-count", "2", "--threshold", "2"), StringComparison.Ordinal);

        Assert.Single(await client.RefreshAsync(CancellationToken.None));
        Assert.Equal(3, Turbine.Edge.Updates.Tuf.RootMetadata.Parse(File.ReadAllBytes(Path.Combine(trust, "root.json"))).Metadata.Version);
        var tufJs = Path.Combine(CliProcess.RepositoryRoot(), "tests", "tools", "edge", "tuf-check.mjs");
        var (code, output, errors) = await ChildProcess.RunAsync("node", [tufJs, device.Server.MetadataUrl.ToString(), device.Server.TargetsUrl.ToString(), provisioned, Path.Combine(work, "tuf-js"), "bundles/edge-1.tar.gz"]);
        Assert.True(code == 0 && JsonDocument.Parse(output).RootElement.GetProperty("ok").GetBoolean(), output + errors);

        // Whoever kept the retired timestamp key can no longer sign a timestamp the device takes.
        using var retired = Turbine.Edge.Updates.Tuf.TufSigningKey.FromPem(File.ReadAllText(Directory.GetFiles(Path.Combine(keys, "retired"), "timestamp-*.pem").Single()));
        var signers = Turbine.Edge.Updates.Tuf.RootMetadata.TopLevelRoles.ToDictionary(role => role, role => new Turbine.Edge.Updates.Tuf.RoleSigners([retired], 1));
        new Turbine.Edge.Updates.Tuf.TufPublisher(repository, signers, TimeProvider.System).RefreshTimestamp();
        var refused = await Assert.ThrowsAsync<Turbine.Edge.Updates.Tuf.TufException>(() => client.RefreshAsync(CancellationToken.None));
        Assert.Equal(Turbine.Edge.Updates.Tuf.TufFailure.BadSignature, refused.Failure);
    }

    [Fact]
    public async Task Publishing_refuses_a_bundle_a_device_would_refuse()
    {
        var work = Directory.CreateTempSubdirectory("turbine-edge-publish-").FullName;
        try
        {
            await CliProcess.RunAsync("edge", "init", Path.Combine(work, "repository"), "--keys", Path.Combine(work, "keys"));
            var notABundle = Path.Combine(work, "not-a-bundle.tar.gz");
            await File.WriteAllBytesAsync(notABundle, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]);

            var (code, output) = await CliProcess.RunRawAsync("edge", "publish", Path.Combine(work, "repository"), "--keys", Path.Combine(work, "keys"), "--bundle", notABundle);

            Assert.Equal(1, code);
            Assert.Contains("is not a usable bundle", output, StringComparison.Ordinal);
            Assert.Empty(Directory.GetFiles(Path.Combine(work, "repository", "targets"), "*", SearchOption.AllDirectories));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task<string> BundleAsync(string work, int version)
    {
        using var models = new TestRepository().Add("simple", SampleModels.AddSub(DataType.Int32, 4), """{ "max_batch_size": 8 }""", version: version);
        var golden = Directory.CreateDirectory(Path.Combine(work, $"golden-{version}")).FullName;
        await File.WriteAllTextAsync(Path.Combine(golden, "simple.jsonl"), "{\"request\": " + AddSubRequests.Json + ", \"expected\": {\"OUTPUT0\": [2, 3, 4, 5]}}\n");
        var bundle = Path.Combine(work, $"edge-{version}.tar.gz");
        Assert.Contains($"version {version}", await CliProcess.RunAsync("edge", "bundle", "--models", models.Root, "--version", $"{version}", "--golden", golden, "-o", bundle), StringComparison.Ordinal);
        return bundle;
    }
}
