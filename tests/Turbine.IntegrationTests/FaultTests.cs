using System.Diagnostics;
using System.Net;
using Turbine.Client;
using Turbine.Core.Execution;
using Turbine.Onnx.Tools;
using Turbine.Tests;
using Turbine.Traffic;

namespace Turbine.IntegrationTests;

/// <summary>
/// SECURITY.md faults on a real server: F3 (bad reload), F5 (client gone), F6 (backend throws), F8 (load/unload storm
/// while inferring), F9 (hot reload under steady traffic) and F10 (queue full).
/// </summary>
public sealed class FaultTests : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly FolderServer _server = new();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task F9_hot_reload_under_steady_traffic_fails_no_request()
    {
        AddSimple(1);
        _server.Folder.Add("bystander", SampleModels.AddSub(DataType.Int32, 4));
        await _server.StartAsync();
        var client = new TurbineHttpClient(_server.Http);
        using var traffic = new SteadyTraffic(client, "simple", clients: 4);
        using var bystander = new SteadyTraffic(client, "bystander", clients: 1);
        await traffic.WaitForRequestsAsync(50);

        for (var version = 2; version <= 5; version++)
        {
            AddSimple(version);
            await client.LoadModelAsync("simple");
            await traffic.WaitForRequestsAsync(traffic.Succeeded + 20); // v(n) has served before the next reload
        }

        var (succeeded, failures) = await traffic.StopAsync();
        var (bystanderSucceeded, bystanderFailures) = await bystander.StopAsync();
        Assert.Empty(failures);
        Assert.Empty(bystanderFailures);
        Assert.True(succeeded > 100 && bystanderSucceeded > 0, $"{succeeded} / {bystanderSucceeded} requests");
        Assert.Equal("5", await ServedVersionAsync(client));
    }

    [Fact]
    public async Task F3_a_corrupt_version_and_a_broken_config_leave_the_previous_load_serving_without_a_failed_request()
    {
        AddSimple(1, """{ "max_batch_size": 8 }""");
        await _server.StartAsync();
        var client = new TurbineHttpClient(_server.Http);
        using var traffic = new SteadyTraffic(client, "simple", clients: 2);
        await traffic.WaitForRequestsAsync(20);

        _server.Folder.Add("simple", [0x08, 0x07, 0xFF], version: 2);
        var corrupt = await Assert.ThrowsAsync<TurbineClientException>(() => client.LoadModelAsync("simple"));
        File.WriteAllText(Path.Combine(_server.Folder.Root, "simple", "config.json"), """{ "max_batch_size": "eight" }""");
        var broken = await Assert.ThrowsAsync<TurbineClientException>(() => client.LoadModelAsync("simple"));
        await traffic.WaitForRequestsAsync(traffic.Succeeded + 20);

        var (_, failures) = await traffic.StopAsync();
        Assert.Empty(failures);
        Assert.Contains("version 2", corrupt.Message, StringComparison.Ordinal);
        Assert.Contains("max_batch_size", broken.Message, StringComparison.Ordinal);
        Assert.Equal("1", await ServedVersionAsync(client));
        var index = await client.GetRepositoryIndexAsync();
        Assert.Contains(index, m => m is { Name: "simple", Version: "1", State: "READY" });
    }

    [Fact]
    public async Task F6_a_backend_that_throws_fails_that_request_with_500_and_the_model_stays_ready()
    {
        var backend = new GatedBackend { Cost = _ => throw new InvalidOperationException("native crash at 0xdeadbeef in /opt/secret/lib.so") };
        AddSimple(1);
        await _server.StartAsync(backend: backend);
        var client = new TurbineHttpClient(_server.Http);

        using var response = await _server.Http.PostAsync("v2/models/simple/infer", AddSubRequests.Content());

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("/opt/secret", body, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
        Assert.True(await client.IsModelReadyAsync("simple"));
        backend.Cost = null;
        Assert.Equal("1", await ServedVersionAsync(client));
    }

    [Fact]
    public async Task F5_a_client_that_gives_up_frees_its_queue_slot_within_a_second()
    {
        var backend = new GatedBackend();
        backend.Gate.Reset();
        AddSimple(1);
        await _server.StartAsync(backend: backend);
        try
        {
            var client = new TurbineHttpClient(_server.Http);
            var holder = client.InferAsync(AddSubRequests.Create("simple"));
            Assert.True(await backend.Entered.WaitAsync(Patience));
            using var giveUp = new CancellationTokenSource();
            var queued = client.InferAsync(AddSubRequests.Create("simple"), giveUp.Token);
            await WaitForQueuedAsync(1);

            var clock = Stopwatch.StartNew();
            await giveUp.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
            while (QueuedRequests() > 0 && clock.Elapsed < Patience)
            {
                await Task.Delay(10); // the server learns of the disconnect from the socket; there is no event to await
            }

            Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(1));
            backend.Gate.Set();
            using var held = await holder;
            Assert.Single(backend.Runs); // the abandoned request never ran
        }
        finally
        {
            backend.Gate.Set();
        }
    }

    [Fact]
    public async Task F10_a_full_queue_answers_503_with_retry_after_at_once_and_admitted_requests_complete()
    {
        var backend = new GatedBackend();
        backend.Gate.Reset();
        AddSimple(1, """{ "max_batch_size": 0, "max_queue_size": 2 }""");
        await _server.StartAsync(backend: backend);
        try
        {
            var client = new TurbineHttpClient(_server.Http);
            var admitted = new List<Task<InferenceResponse>> { client.InferAsync(AddSubRequests.Create("simple")) };
            Assert.True(await backend.Entered.WaitAsync(Patience));
            admitted.Add(client.InferAsync(AddSubRequests.Create("simple")));
            admitted.Add(client.InferAsync(AddSubRequests.Create("simple")));
            await WaitForQueuedAsync(2);

            var clock = Stopwatch.StartNew();
            using var refused = await _server.Http.PostAsync("v2/models/simple/infer", AddSubRequests.Content());

            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal("1", refused.Headers.RetryAfter?.ToString());
            Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(1));
            backend.Gate.Set();
            foreach (var response in await Task.WhenAll(admitted))
            {
                response.Dispose();
            }
        }
        finally
        {
            backend.Gate.Set();
        }
    }

    [Fact]
    public async Task F8_a_load_unload_storm_while_inferring_ends_consistent_with_only_documented_errors()
    {
        AddSimple(1);
        await _server.StartAsync();
        var client = new TurbineHttpClient(_server.Http);
        using var traffic = new SteadyTraffic(client, "simple", clients: 2, tolerate: e => e.HttpStatus == 503);
        const int Threads = 32;
        const int OperationsPerThread = 8; // bench/Turbine.Bench --scenario lifecycle-storm runs 32 x 1024

        await Task.WhenAll(Enumerable.Range(0, Threads).Select(thread => Task.Run(async () =>
        {
            for (var i = 0; i < OperationsPerThread; i++)
            {
                await ((thread + i) % 2 == 0 ? client.LoadModelAsync("simple") : client.UnloadModelAsync("simple"));
            }
        }))).WaitAsync(TimeSpan.FromMinutes(2));

        await client.LoadModelAsync("simple");
        var (succeeded, failures) = await traffic.StopAsync();
        Assert.Empty(failures); // only 503 "unavailable/unloading" is tolerated while a model is out
        Assert.True(succeeded > 0);
        Assert.Equal("1", await ServedVersionAsync(client));
        Assert.Equal(["1"], (await client.GetRepositoryIndexAsync()).Where(m => m.Name == "simple").Select(m => m.Version));
    }

    /// <summary>Polls the queue gauge: nothing signals "a request was queued" to a test, short of a hook in the runner.</summary>
    private async Task WaitForQueuedAsync(int count)
    {
        var clock = Stopwatch.StartNew();
        while (QueuedRequests() < count)
        {
            Assert.True(clock.Elapsed < Patience, "the request never reached the queue");
            await Task.Delay(5);
        }
    }

    private int QueuedRequests()
    {
        var inference = (InferenceService)_server.Server.Services.GetService(typeof(InferenceService))!;
        Assert.Null(inference.TryGetModel("simple", "1", out var info));
        return info!.QueuedRequests;
    }

    private void AddSimple(int version, string? config = null) => _server.Folder.Add("simple", SampleModels.AddSub(DataType.Int32, 4), config, version);

    private static async Task<string> ServedVersionAsync(TurbineHttpClient client)
    {
        using var request = AddSubRequests.Create("simple");
        using var response = await client.InferAsync(request);
        return response.ModelVersion;
    }
}
