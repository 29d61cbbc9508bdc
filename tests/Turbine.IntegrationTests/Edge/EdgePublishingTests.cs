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
