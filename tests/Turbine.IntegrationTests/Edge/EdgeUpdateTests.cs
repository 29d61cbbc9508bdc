using System.Text.Json;
using Turbine.Edge.Updates;

namespace Turbine.IntegrationTests.Edge;

/// <summary>
/// Issue 21's safe updates, driven through the real agent process: a good update commits, and every failure (a cut
/// download, bad signatures, expired metadata, a failed health check, a crash loop, a power loss between any two
/// steps) ends with the device serving from a working slot.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Collection(SerialCollection.Name)] // each test runs agents and servers as processes: not beside the timing-sensitive tests
public sealed class EdgeUpdateTests
{
    [Fact]
    public async Task A_signed_update_is_installed_in_the_other_slot_checked_and_committed()
    {
        await using var device = await EdgeDevice.ProvisionAsync();
        var agent = device.Start();
        Assert.Equal("1", await EdgeDevice.InferAsync(await agent.ServingAsync("slot a (version 1) serves at")));

        device.Publish(device.MakeBundle(2), 2);

        var address = await agent.ServingAsync("slot b (version 2) serves at");
        await agent.WaitForAsync("committed slot b (version 2)");
        Assert.Equal("2", await EdgeDevice.InferAsync(address));
        var state = device.State;
        Assert.Equal(("b", "a", null), (state.Active, state.Previous, state.Trial));
        Assert.Equal(0, await agent.StopAsync());
        // The store is read-only: no write bit on the model or its folders (root ignores modes, so the bits are checked).
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(Path.Combine(device.Layout.Slot("b"), "models", "simple", "2", "model.onnx")));
        Assert.False(File.GetUnixFileMode(Path.Combine(device.Layout.Slot("b"), "models")).HasFlag(UnixFileMode.UserWrite));
    }

    [Fact]
    public async Task A_cut_download_resumes_where_it_stopped()
    {
        await using var device = await EdgeDevice.ProvisionAsync();
        device.Server.CutTargetDownloads(count: 1, bytes: 100_000);
        device.Publish(device.MakeBundle(2), 2);
        var agent = device.Start();

        await agent.WaitForAsync("the download broke off after");
        await agent.WaitForAsync("committed slot b (version 2)");

        // The second request asks for the rest only (how much of the cut response arrived depends on the buffers between).
        var ranged = Assert.Single(device.Server.Requests, request => request.Contains("/targets/bundles/", StringComparison.Ordinal) && request.Contains("bytes=", StringComparison.Ordinal));
        Assert.Matches(@"bytes=[1-9]\d*-$", ranged);
    }

    [Theory]
    [InlineData("signature", "BadSignature")]
    [InlineData("expired", "Expired")]
    public async Task Metadata_the_device_cannot_trust_leaves_it_on_its_version(string fault, string failure)
    {
        await using var device = await EdgeDevice.ProvisionAsync();
        var agent = device.Start();
        var address = await agent.ServingAsync("slot a (version 1) serves at");

        if (fault == "signature")
        {
            using var stranger = Turbine.Edge.Updates.Tuf.TufSigningKey.Generate();
            var forged = new Dictionary<string, Turbine.Edge.Updates.Tuf.RoleSigners>(device.Repository.Signers) { ["targets"] = new([stranger], 1) };
            new Turbine.Edge.Updates.Tuf.TufPublisher(device.Repository.ServedFolder, forged, TimeProvider.System)
                .AddTarget("bundles/edge-2.tar.gz", device.MakeBundle(2), System.Text.Json.JsonDocument.Parse("""{"version": 2}""").RootElement);
        }
        else
        {
            device.Publish(device.MakeBundle(2), 2);
            new Turbine.Edge.Updates.Tuf.TufPublisher(device.Repository.ServedFolder, device.Repository.Signers, new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow.AddDays(-3))).RefreshTimestamp();
        }

        await agent.WaitForAsync($"no update: {failure}");
        Assert.Equal("1", await EdgeDevice.InferAsync(address));
        Assert.Equal(("a", 1L), (device.State.Active, device.State.ActiveVersion));
    }

    [Fact]
    public async Task A_failed_health_check_rolls_back_and_the_version_is_never_tried_again()
    {
        await using var device = await EdgeDevice.ProvisionAsync();
        device.Publish(device.MakeBundle(2, golden: [9, 9, 9, 9]), 2);
        var agent = device.Start();

        await agent.WaitForAsync("rolled back from version 2 to slot a (version 1): health check failed: golden simple line 1: output 'OUTPUT0'[0] is 2, expected 9");
        var address = await agent.ServingAsync("slot a (version 1) serves at");
        Assert.Equal("1", await EdgeDevice.InferAsync(address));
        Assert.Equal([2L], device.State.Rejected);

        device.Publish(device.MakeBundle(3), 3); // the next good version still comes
        await agent.WaitForAsync("committed slot b (version 3)");
        Assert.DoesNotContain("version 2 is available", agent.Log.Split('\n').SkipWhile(line => !line.Contains("rolled back", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_server_that_crashes_after_the_switch_is_rolled_back_after_its_allowed_starts()
    {
        await using var device = await EdgeDevice.ProvisionAsync();
        device.Publish(device.MakeBundle(2, serverScript: "#!/bin/sh\necho 'segmentation fault (simulated)' >&2\nexit 139\n"), 2);
        var agent = device.Start();

        await agent.WaitForAsync("rolled back from version 2 to slot a (version 1): crash loop: 3 start(s) of slot b");
        Assert.Equal("1", await EdgeDevice.InferAsync(await agent.ServingAsync("slot a (version 1) serves at")));
        Assert.Contains("segmentation fault (simulated)", agent.Log, StringComparison.Ordinal);
        var queued = new Turbine.Edge.Updates.Telemetry.TelemetryQueue(device.Layout.Telemetry, "test-device", 16L << 20, TimeProvider.System).Pending(1000);
        Assert.Equal(3, queued.Count(r => r.Json.Contains("\"kind\":\"log\"", StringComparison.Ordinal) && r.Json.Contains("segmentation fault (simulated)", StringComparison.Ordinal)));
        Assert.Contains(queued, r => r.Json.Contains("\"kind\":\"update-rolled-back\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Update_results_and_metrics_wait_on_disk_while_offline_and_arrive_once_the_receiver_is_back()
    {
        await using var receiver = await TelemetryQueueTests.Receiver.StartAsync();
        receiver.Answer = System.Net.HttpStatusCode.ServiceUnavailable;
        await using var device = await EdgeDevice.ProvisionAsync();
        device.Publish(device.MakeBundle(2), 2);
        var agent = device.Start(telemetryUrl: receiver.Url.ToString());
        var address = await agent.ServingAsync("slot b (version 2) serves at");
        await agent.WaitForAsync("committed slot b (version 2)");
        for (var i = 0; i < 5; i++)
        {
            await EdgeDevice.InferAsync(address); // INPUT0 = [1, 2, 3, 4] each time
        }

        receiver.Answer = System.Net.HttpStatusCode.OK;
        List<JsonElement> Sketches() => [.. receiver.Lines.Select(line => JsonDocument.Parse(line).RootElement).Where(r => r.GetProperty("kind").GetString() == "drift-sketch")
            .Select(r => r.GetProperty("window").GetProperty("models").GetProperty("simple").GetProperty("INPUT0"))];

        // The health check's golden case and 5 requests, 4 values each, in however many windows the ticks (every 500 ms) cut.
        while (Sketches().Sum(s => s.GetProperty("count").GetInt64()) < 24)
        {
            await agent.WaitForAsync("forwarded");
        }

        Assert.Contains("update-switched", receiver.Kinds);
        Assert.Contains("update-committed", receiver.Kinds);
        Assert.Contains("metrics", receiver.Kinds);
        var sketches = Sketches();
        Assert.Equal(24, sketches.Sum(s => s.GetProperty("count").GetInt64())); // no value counted twice
        Assert.All(sketches, s => Assert.Equal((1.0, 4.0), (s.GetProperty("min").GetDouble(), s.GetProperty("max").GetDouble())));
        Assert.All(sketches, s => Assert.Equal(s.GetProperty("count").GetInt64(), s.GetProperty("sample").GetArrayLength()));
        Assert.Equal(receiver.Ids.Count, receiver.Ids.Distinct().Count());
        Assert.All(receiver.Ids, id => Assert.StartsWith("test-device-", id, StringComparison.Ordinal));
    }

    /// <summary>Every step of an update, where SIGKILL (a power cut, for the process) can land.</summary>
    public static TheoryData<string> Steps() => ["downloading", "downloaded", "unpacking", "installed", "switched", "trial-starting", "trial-started", "committed"];

    [Theory]
    [MemberData(nameof(Steps))]
    public async Task A_power_loss_at_any_step_ends_on_a_working_slot(string step)
    {
        await using var device = await EdgeDevice.ProvisionAsync();
        device.Publish(device.MakeBundle(2), 2);

        var killed = device.Start(fault: step);
        Assert.Equal(137, await killed.WaitForExitAsync()); // 128 + SIGKILL
        Assert.Contains($"killed at '{step}'", killed.Log, StringComparison.Ordinal);

        var agent = device.Start();
        var address = await agent.ServingAsync("slot b (version 2) serves at");
        if (step != "committed")
        {
            await agent.WaitForAsync("committed slot b (version 2)");
        }

        Assert.Equal("2", await EdgeDevice.InferAsync(address));
        Assert.Equal(("b", null), (device.State.Active, device.State.Trial));
        Assert.False(Directory.Exists(device.Layout.Staging("b")));
    }

    [Fact]
    public async Task A_power_loss_while_rolling_back_still_rolls_back()
    {
        await using var device = await EdgeDevice.ProvisionAsync();
        device.Publish(device.MakeBundle(2, golden: [9, 9, 9, 9]), 2);

        Assert.Equal(137, await device.Start(fault: "rolling-back").WaitForExitAsync());
        var agent = device.Start();

        await agent.WaitForAsync("rolled back from version 2 to slot a (version 1)");
        Assert.Equal("1", await EdgeDevice.InferAsync(await agent.ServingAsync("slot a (version 1) serves at")));
    }

    [Fact]
    public async Task A_device_that_dies_after_every_switch_comes_back_on_the_previous_slot()
    {
        await using var device = await EdgeDevice.ProvisionAsync();
        device.Publish(device.MakeBundle(2), 2);

        // The new slot's server starts, and the whole device dies before the health check passes, three times.
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(137, await device.Start(fault: "trial-started").WaitForExitAsync());
        }

        var agent = device.Start();
        await agent.WaitForAsync("rolled back from version 2 to slot a (version 1): crash loop: 3 start(s)");
        Assert.Equal("1", await EdgeDevice.InferAsync(await agent.ServingAsync("slot a (version 1) serves at")));
        Assert.Equal([2L], device.State.Rejected);
    }
}
