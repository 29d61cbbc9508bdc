using System.Text.Json;
using Turbine.Onnx.Graph;

namespace Turbine.IntegrationTests;

/// <summary>A model folder written for Triton (config.pbtxt) served as it is.</summary>
public sealed class TritonRepositoryTests : IAsyncLifetime
{
    private readonly FolderServer _triton = new();

    public async Task InitializeAsync()
    {
        _triton.Folder.Add("simple", SampleModels.AddSub(DataType.Int32, 16));
        await File.WriteAllTextAsync(Path.Combine(_triton.Folder.Root, "simple", "config.pbtxt"), """
            name: "simple"
            platform: "onnxruntime_onnx"
            max_batch_size: 8
            input [ { name: "INPUT0" data_type: TYPE_INT32 dims: [ 16 ] }, { name: "INPUT1" data_type: TYPE_INT32 dims: [ 16 ] } ]
            output [ { name: "OUTPUT0" data_type: TYPE_INT32 dims: [ 16 ] }, { name: "OUTPUT1" data_type: TYPE_INT32 dims: [ 16 ] } ]
            instance_group [ { kind: KIND_CPU count: 2 } ]
            dynamic_batching { max_queue_delay_microseconds: 100 }
            """);
        await _triton.StartAsync();
    }

    public async Task DisposeAsync() => await _triton.DisposeAsync();

    [Fact]
    public async Task A_model_with_config_pbtxt_serves_with_its_settings()
    {
        using var config = JsonDocument.Parse(await _triton.Http.GetStringAsync("v2/models/simple/config"));
        Assert.Equal(8, config.RootElement.GetProperty("max_batch_size").GetInt32());
        Assert.Equal(2, config.RootElement.GetProperty("instance_group")[0].GetProperty("count").GetInt32());
        Assert.Equal(100, config.RootElement.GetProperty("dynamic_batching").GetProperty("max_queue_delay_microseconds").GetInt32());

        using var client = new Client.TurbineHttpClient(_triton.Http);
        using var request = RestEndpointTests.SimpleRequest();
        using var response = await client.InferAsync(request);
        Assert.Equal(Enumerable.Range(1, 16), response.Outputs[0].ToArray<int>());
    }
}
