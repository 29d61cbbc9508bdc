using System.Security.Cryptography;
using Turbine.Client;
using Turbine.Onnx.Tools;
using Turbine.Registry;
using Turbine.Server.Registry;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>
/// Serving from the registry: a server follows <c>simple@champion</c>, switches versions under steady traffic without a
/// failed request when the alias moves (and back, for a rollback), records each switch in the audit trail, and refuses
/// a version its trusted keys did not sign while the previous one keeps serving.
/// </summary>
public sealed class RegistryServingTests : IAsyncDisposable
{
    private const string Replica = "replica-a";
    private readonly FolderServer _server = new();
    private readonly TestRepository _sources = new();

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _sources.Dispose();
    }

    private string RegistryFolder => Path.Combine(_sources.Root, "registry");

    [Fact]
    public async Task An_alias_move_and_a_rollback_switch_the_served_version_under_traffic_without_a_failed_request()
    {
        var registry = await OpenAsync();
        await PushAsync(registry, signer: null);
        await PushAsync(registry, signer: null);
        await registry.MoveAliasAsync("simple", "champion", 1, "alice", "first release", default);
        await StartAsync(trustedKey: null);
        var follower = Follower();
        var client = new TurbineHttpClient(_server.Http);
        await WaitUntilServingAsync(client, "1", follower);
        using var traffic = new SteadyTraffic(client, "simple", clients: 4);
        await traffic.WaitForRequestsAsync(50);

        await registry.MoveAliasAsync("simple", "champion", 2, "bob", "canary passed", default);
        await WaitUntilServingAsync(client, "2", follower);
        await traffic.WaitForRequestsAsync(traffic.Succeeded + 50);
        var beforeRollback = DateTimeOffset.UtcNow.AddMilliseconds(-1); // the trail keeps milliseconds: strictly before the move below
        await registry.MoveAliasAsync("simple", "champion", 1, "pager", "rollback", default);
        await WaitUntilServingAsync(client, "1", follower);
        await traffic.WaitForRequestsAsync(traffic.Succeeded + 50);

        var (succeeded, failures) = await traffic.StopAsync();
        Assert.Empty(failures);
        Assert.True(succeeded > 150, $"{succeeded} requests");
        Assert.Equal(["1"], Directory.EnumerateDirectories(Path.Combine(_server.Folder.Root, "simple")).Select(Path.GetFileName)); // the replaced versions left
        var served = (await registry.Store.AuditAsync("simple", null, default)).Where(e => e.Kind == AuditKinds.Serving).ToList();
        Assert.Equal([1L, 2L, 1L], served.Select(e => e.Version!.Value));
        Assert.All(served, e => Assert.Equal(Replica, e.Alias));
        var atThatTime = await registry.StateAtAsync("simple", Replica, beforeRollback, default);
        Assert.Equal(2, atThatTime!.Version);
        Assert.Equal("bob", (await registry.StateAtAsync("simple", "champion", beforeRollback, default))!.Actor);
    }

    [Fact]
    public async Task A_version_not_signed_by_a_trusted_key_is_refused_and_the_previous_one_keeps_serving()
    {
        var (key, publicKey) = TestKeys.Write(_sources.Root, "ci");
        var registry = await OpenAsync();
        using (var signer = ManifestSigner.FromPemFile(key, "ci"))
        {
            await PushAsync(registry, signer);
        }

        await PushAsync(registry, signer: null);
        await registry.MoveAliasAsync("simple", "champion", 1, "alice", "signed release", default);
        await StartAsync(publicKey);
        var follower = Follower();
        var client = new TurbineHttpClient(_server.Http);
        await WaitUntilServingAsync(client, "1", follower);

        await registry.MoveAliasAsync("simple", "champion", 2, "mallory", "unsigned", default);
        await follower.NextSyncAsync();
        await follower.NextSyncAsync();

        Assert.Equal("1", await ServedVersionAsync(client));
        var refused = (await registry.Store.AuditAsync("simple", null, default)).Last(e => e.Kind == AuditKinds.ServingRefused);
        Assert.Equal((2L, 1L), (refused.Version!.Value, refused.Previous!.Value));
        Assert.Contains("simple version 2 is not signed", refused.Detail, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_server.Folder.Root, "simple", "2")));
    }

    private async Task<ModelRegistry> OpenAsync()
    {
        _sources.Add("simple", SampleModels.AddSub(DataType.Int32, 4), """{ "max_batch_size": 8 }""");
        return await RegistryDatabases.OpenAsync(RegistryFolder, null, null, TimeProvider.System, default);
    }

    private Task<ModelVersion> PushAsync(ModelRegistry registry, ManifestSigner? signer) =>
        registry.PushAsync(new PushRequest("simple", Path.Combine(_sources.Root, "simple", "1"), Path.Combine(_sources.Root, "simple", "config.json"), "ci", Signer: signer), default);

    private async Task StartAsync(string? trustedKey)
    {
        _server.Configuration.AddRange(["--Turbine:Registry:Folder=" + RegistryFolder, "--Turbine:Registry:Follow:0=simple@champion", "--Turbine:Registry:PollInterval=00:00:00.100", "--Turbine:ReplicaId=" + Replica]);
        if (trustedKey is not null)
        {
            _server.Configuration.Add("--Turbine:Registry:TrustedKeys:0=" + trustedKey);
        }

        await _server.StartAsync();
    }

    private RegistryFollower Follower() => (RegistryFollower)_server.Server.Services.GetService(typeof(RegistryFollower))!;

    private static async Task WaitUntilServingAsync(TurbineHttpClient client, string version, RegistryFollower follower)
    {
        for (var polls = 0; polls < 100; polls++)
        {
            await follower.NextSyncAsync();
            if (await TryServedVersionAsync(client) == version)
            {
                return;
            }
        }

        Assert.Fail($"version {version} never served");
    }

    private static async Task<string?> TryServedVersionAsync(TurbineHttpClient client)
    {
        try
        {
            return await ServedVersionAsync(client);
        }
        catch (TurbineClientException)
        {
            return null; // not loaded yet
        }
    }

    private static async Task<string> ServedVersionAsync(TurbineHttpClient client)
    {
        using var request = AddSubRequests.Create("simple");
        using var response = await client.InferAsync(request);
        return response.ModelVersion;
    }
}
