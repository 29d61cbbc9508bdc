using System.Text.Json;
using Turbine.Onnx.Tools;

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
        _triton.Folder.Add("image_like", SampleModels.Identity(DataType.Fp32, -1, 3, 2, 2), fileName: "custom.onnx");
        await File.WriteAllTextAsync(Path.Combine(_triton.Folder.Root, "image_like", "config.pbtxt"), """
            platform: "onnxruntime_onnx"
            max_batch_size: 4
            default_model_filename: "custom.onnx"
            input [ { name: "INPUT0" data_type: TYPE_FP32 format: FORMAT_NCHW dims: [ 3, 2, 2 ] } ]
            output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 3, 2, 2 ] label_filename: "labels.txt" } ]
            parameters { key: "preprocess" value: { string_value: "INCEPTION" } }
            optimization { input_pinned_memory { enable: true } }
            """);
        await File.WriteAllLinesAsync(Path.Combine(_triton.Folder.Root, "image_like", "labels.txt"), ["a", "b", "c"]);
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

    [Fact]
    public async Task The_config_comes_back_with_every_field_of_the_file_over_rest_and_grpc()
    {
        using var rest = JsonDocument.Parse(await _triton.Http.GetStringAsync("v2/models/image_like/config"));
        var root = rest.RootElement;
        Assert.Equal("FORMAT_NCHW", root.GetProperty("input")[0].GetProperty("format").GetString()); // what Triton's image client reads
        Assert.Equal("labels.txt", root.GetProperty("output")[0].GetProperty("label_filename").GetString());
        Assert.Equal("INCEPTION", root.GetProperty("parameters").GetProperty("preprocess").GetProperty("string_value").GetString());
        Assert.True(root.GetProperty("optimization").GetProperty("input_pinned_memory").GetProperty("enable").GetBoolean());
        Assert.Equal("custom.onnx", root.GetProperty("default_model_filename").GetString());

        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress($"http://127.0.0.1:{_triton.Server.GrpcPort}");
        var grpc = new Turbine.Protocols.Grpc.GRPCInferenceService.GRPCInferenceServiceClient(channel);
        var config = (await grpc.ModelConfigAsync(new Turbine.Protocols.Grpc.ModelConfigRequest { Name = "image_like" })).Config;
        Assert.Equal(Turbine.Protocols.Grpc.ModelInput.Types.Format.Nchw, config.Input[0].Format);
        Assert.Equal("labels.txt", config.Output[0].LabelFilename);
        Assert.Equal("INCEPTION", config.Parameters["preprocess"].StringValue);
        Assert.Equal("custom.onnx", config.DefaultModelFilename);
    }

    [Fact]
    public async Task A_model_file_named_by_default_model_filename_serves()
    {
        using var client = new Client.TurbineHttpClient(_triton.Http);
        using var request = new InferenceRequest { ModelName = "image_like" };
        request.Inputs.Add(Tensor.FromArray<float>("INPUT0", [1, 3, 2, 2], Enumerable.Range(0, 12).Select(i => (float)i).ToArray()));

        using var response = await client.InferAsync(request);

        Assert.Equal(Enumerable.Range(0, 12).Select(i => (float)i), response.Outputs[0].ToArray<float>());
    }
}
