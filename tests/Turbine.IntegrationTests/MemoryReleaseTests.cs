using System.Diagnostics;
using Turbine.Client;
using Turbine.Onnx.Graph;

namespace Turbine.IntegrationTests;

/// <summary>Issue 4: memory is released on unload, so RSS returns near its baseline after many load/unload cycles.</summary>
[Collection(SerialCollection.Name)]
public sealed class MemoryReleaseTests : IAsyncDisposable
{
    private readonly FolderServer _server = new();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Rss_returns_near_its_baseline_after_many_load_unload_cycles()
    {
        // About 16 MB of weights, so that a leaked copy per cycle would add hundreds of MB.
        var model = SampleModels.Mlp(inputs: 1024, hidden: 2048, classes: 1024);
        _server.Folder.Add("big", model);
        await _server.StartAsync();
        var client = new TurbineHttpClient(_server.Http);
        await CycleAsync(client, 5); // first loads grow pools and caches once
        var baseline = Rss();

        await CycleAsync(client, 60);

        var growth = Rss() - baseline;
        Assert.True(growth < 64L * 1024 * 1024, $"RSS grew by {growth / (1024 * 1024)} MiB over 60 cycles of a {model.Length / (1024 * 1024)} MiB model");
    }

    private static async Task CycleAsync(TurbineHttpClient client, int cycles)
    {
        for (var i = 0; i < cycles; i++)
        {
            await client.UnloadModelAsync("big");
            await client.LoadModelAsync("big");
            using var request = new InferenceRequest { ModelName = "big" };
            request.Inputs.Add(Tensor.FromArray<float>("features", [1, 1024], new float[1024]));
            using var response = await client.InferAsync(request);
        }
    }

    private static long Rss()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }
}
