using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Grpc.Reflection.V1Alpha;
using Turbine.Client;
using Turbine.Protocols.Grpc;

namespace Turbine.IntegrationTests;

[Collection(ServerCollection.Name)]
public sealed class GrpcTests(ServerFixture fixture) : IDisposable
{
    private readonly GrpcChannel _channel = GrpcChannel.ForAddress(fixture.GrpcAddress);

    private GRPCInferenceService.GRPCInferenceServiceClient Raw => new(_channel);

    public void Dispose() => _channel.Dispose();

    public static TheoryData<DataType> AllTypes() => TestTensors.AllTypes();

    [Fact]
    public async Task Health_and_metadata_rpcs_answer()
    {
        using var client = fixture.GrpcClient();

        Assert.True(await client.IsServerLiveAsync());
        Assert.True(await client.IsServerReadyAsync());
        Assert.True(await client.IsModelReadyAsync("simple"));
        Assert.True(await client.IsModelReadyAsync("simple", "1"));
        Assert.False(await client.IsModelReadyAsync("corrupt"));
        var server = await client.GetServerMetadataAsync();
        Assert.Equal("turbine", server.Name);
        Assert.Contains("model_repository", server.Extensions);
        var model = await client.GetModelMetadataAsync("simple");
        Assert.Equal(["INPUT0", "INPUT1"], model.Inputs.Select(i => i.Name));
        Assert.Equal([-1L, 16L], model.Inputs[0].Shape);
        Assert.Equal("onnxruntime_onnx", model.Platform);
    }

    [Fact]
    public async Task Model_config_uses_tritons_message()
    {
        var response = await Raw.ModelConfigAsync(new ModelConfigRequest { Name = "simple" });

        Assert.Equal("simple", response.Config.Name);
        Assert.Equal(8, response.Config.MaxBatchSize);
        Assert.Equal(Protocols.Grpc.DataType.TypeInt32, response.Config.Input[0].DataType);
        Assert.Equal([16L], response.Config.Input[0].Dims);
        Assert.Equal("all", response.Config.Parameters["graph_optimization_level"].StringValue);
        Assert.Equal(100UL, response.Config.DynamicBatching.MaxQueueDelayMicroseconds);
        Assert.Equal([4], response.Config.DynamicBatching.PreferredBatchSize);
        Assert.Equal(2UL, response.Config.DynamicBatching.PriorityLevels);
        Assert.Equal(64U, response.Config.DynamicBatching.PriorityQueuePolicy[1].MaxQueueSize);
        Assert.Equal(ModelQueuePolicy.Types.TimeoutAction.Delay, response.Config.DynamicBatching.PriorityQueuePolicy[1].TimeoutAction);
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public async Task Every_datatype_round_trips_as_raw_contents(DataType type)
    {
        using var client = fixture.GrpcClient();
        using var request = new InferenceRequest { ModelName = ServerFixture.IdentityName(type), Id = "g1" };
        request.Inputs.Add(TestTensors.Sample("INPUT0", type));

        using var response = await client.InferAsync(request);

        Assert.Equal("g1", response.Id);
        var output = Assert.Single(response.Outputs);
        Assert.Equal(type, output.DataType);
        Assert.Equal([2L, 3L], output.Shape);
        Assert.Equal(TestTensors.Bytes(request.Inputs[0]), TestTensors.Bytes(output));
    }

    [Fact]
    public async Task Typed_contents_are_accepted()
    {
        var request = new ModelInferRequest { ModelName = "simple" };
        request.Inputs.Add(Input("INPUT0", "INT32", [1, 16], c => c.IntContents.AddRange(Enumerable.Range(0, 16))));
        request.Inputs.Add(Input("INPUT1", "INT32", [1, 16], c => c.IntContents.AddRange(Enumerable.Repeat(2, 16))));
        request.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "OUTPUT1" });

        var response = await Raw.ModelInferAsync(request);

        var output = Assert.Single(response.Outputs);
        Assert.Equal("OUTPUT1", output.Name);
        var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(response.RawOutputContents[0].Span).ToArray();
        Assert.Equal(Enumerable.Range(-2, 16), values);
    }

    [Fact]
    public async Task Typed_bytes_and_fp32_contents_are_accepted()
    {
        var strings = new ModelInferRequest { ModelName = "string_upper" };
        strings.Inputs.Add(Input("TEXT", "BYTES", [2], c => c.BytesContents.AddRange([ByteString.CopyFromUtf8("ab"), ByteString.CopyFromUtf8("cd")])));
        var floats = new ModelInferRequest { ModelName = "identity_fp32" };
        floats.Inputs.Add(Input("INPUT0", "FP32", [1, 2], c => c.Fp32Contents.AddRange([1.5f, -2f])));

        using var upper = TurbineGrpcClient.FromMessage(await Raw.ModelInferAsync(strings));
        using var same = TurbineGrpcClient.FromMessage(await Raw.ModelInferAsync(floats));

        Assert.Equal(["AB", "CD"], upper.Outputs[0].ToStrings());
        Assert.Equal([1.5f, -2f], same.Outputs[0].ToArray<float>());
    }

    public static TheoryData<string, global::Grpc.Core.StatusCode, string> Errors() => new()
    {
        { "unknown-model", global::Grpc.Core.StatusCode.NotFound, "Request for unknown model: 'nope' is not found" },
        { "unknown-version", global::Grpc.Core.StatusCode.NotFound, "Request for unknown model: 'simple' version 9 is not found" },
        { "not-ready", global::Grpc.Core.StatusCode.Unavailable, "Request for unknown model: 'corrupt' has no available versions" },
        { "datatype", global::Grpc.Core.StatusCode.InvalidArgument, "inference input 'INPUT0' data-type is 'INT64', but model 'simple' expects 'INT32'" },
        { "shape", global::Grpc.Core.StatusCode.InvalidArgument, "unexpected shape for input 'INPUT0' for model 'simple'. Expected [-1,16], got [2,8]" },
        { "missing", global::Grpc.Core.StatusCode.InvalidArgument, "expected 2 inputs but got 1 inputs for model 'simple'; missing input(s) 'INPUT1'" },
        { "unknown-input", global::Grpc.Core.StatusCode.InvalidArgument, "unexpected inference input 'INPUT7' for model 'simple'" },
        { "byte-size", global::Grpc.Core.StatusCode.InvalidArgument, "unexpected total byte size 60 for input 'INPUT0', expecting 64" },
        { "raw-count", global::Grpc.Core.StatusCode.InvalidArgument, "raw_input_contents has 1 entries but the request has 2 inputs; give one per input or none" },
        // The model's spec is checked before any data is read: a shape no batch of the model can have is refused as such.
        { "oversized", global::Grpc.Core.StatusCode.InvalidArgument, "inference request batch-size must be <= 8 for 'simple', got 1099511627776" },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public async Task Errors_carry_the_matching_status_code_and_message(string variant, global::Grpc.Core.StatusCode code, string message)
    {
        var request = new ModelInferRequest { ModelName = "simple" };
        var input0 = RawInput("INPUT0", "INT32", [1, 16]);
        var input1 = RawInput("INPUT1", "INT32", [1, 16]);
        var raw0 = ByteString.CopyFrom(new byte[64]);
        var raw1 = ByteString.CopyFrom(new byte[64]);
        switch (variant)
        {
            case "unknown-model": request.ModelName = "nope"; break;
            case "unknown-version": request.ModelVersion = "9"; break;
            case "not-ready": request.ModelName = "corrupt"; break;
            case "datatype": input0.Datatype = "INT64"; raw0 = ByteString.CopyFrom(new byte[128]); break;
            case "shape": input0.Shape.Clear(); input0.Shape.AddRange([2, 8]); break;
            case "missing": input1 = null; raw1 = null; break;
            case "unknown-input": input1.Name = "INPUT7"; break;
            case "byte-size": raw0 = ByteString.CopyFrom(new byte[60]); break;
            case "raw-count": raw1 = null; break;
            case "oversized": input0.Shape.Clear(); input0.Shape.AddRange([1L << 40, 16]); break;
        }

        request.Inputs.Add(input0);
        request.RawInputContents.Add(raw0);
        if (input1 is not null)
        {
            request.Inputs.Add(input1);
        }

        if (raw1 is not null)
        {
            request.RawInputContents.Add(raw1);
        }

        var error = await Assert.ThrowsAsync<RpcException>(async () => await Raw.ModelInferAsync(request));

        Assert.Equal(code, error.StatusCode);
        Assert.Equal(message, error.Status.Detail);
    }

    [Fact]
    public async Task Metadata_of_an_unknown_model_is_not_found()
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () => await Raw.ModelMetadataAsync(new ModelMetadataRequest { Name = "nope" }));

        Assert.Equal(global::Grpc.Core.StatusCode.NotFound, error.StatusCode);
        Assert.Equal("Request for unknown model: 'nope' is not found", error.Status.Detail);
    }

    [Fact]
    public async Task Stream_infer_answers_each_request_and_reports_errors_in_band()
    {
        using var call = Raw.ModelStreamInfer();
        using var good = RestEndpointTests.SimpleRequest("s1");
        await call.RequestStream.WriteAsync(TurbineGrpcClient.ToMessage(good));
        await call.RequestStream.WriteAsync(new ModelInferRequest { ModelName = "nope", Id = "s2" });
        using var again = RestEndpointTests.SimpleRequest("s3");
        await call.RequestStream.WriteAsync(TurbineGrpcClient.ToMessage(again));
        await call.RequestStream.CompleteAsync();

        var responses = new Dictionary<string, ModelStreamInferResponse>();
        await foreach (var response in call.ResponseStream.ReadAllAsync())
        {
            responses.Add(response.InferResponse.Id, response); // answers come as they finish; clients match them by id
        }

        Assert.Equal(["s1", "s2", "s3"], responses.Keys.Order());
        Assert.Equal("", responses["s1"].ErrorMessage);
        Assert.Equal("Request for unknown model: 'nope' is not found", responses["s2"].ErrorMessage);
        Assert.Equal("", responses["s3"].ErrorMessage);
        Assert.Equal(2, responses["s3"].InferResponse.RawOutputContents.Count);
        Assert.All(responses.Values, r => Assert.True(r.InferResponse.Parameters["triton_final_response"].BoolParam)); // what Triton's stream clients wait for
    }

    [Fact]
    public async Task KServe_numbered_repository_messages_name_the_model_in_field_1_and_get_its_answer_fields()
    {
        // KServe's RepositoryModelUnloadRequest is { string model_name = 1; }: on the wire, this message.
        var kserveUnload = new RepositoryModelUnloadRequest { RepositoryName = "identity_int8" };
        var kserveLoad = new RepositoryModelLoadRequest { RepositoryName = "identity_int8" };

        var unloaded = await Raw.RepositoryModelUnloadAsync(kserveUnload);
        Assert.False((await Raw.ModelReadyAsync(new ModelReadyRequest { Name = "identity_int8" })).Ready);
        var loaded = await Raw.RepositoryModelLoadAsync(kserveLoad);
        Assert.True((await Raw.ModelReadyAsync(new ModelReadyRequest { Name = "identity_int8" })).Ready);

        // KServe's responses are { string model_name = 1; bool isLoaded = 2; } and { ...; bool isUnloaded = 2; }.
        Assert.Equal(("identity_int8", true), (unloaded.ModelName, unloaded.IsUnloaded));
        Assert.Equal(("identity_int8", true), (loaded.ModelName, loaded.IsLoaded));
        Assert.Equal(WireOf(1, "identity_int8").Concat([(byte)((2 << 3) | 0), (byte)1]), loaded.ToByteArray());
    }

    /// <summary>A length-delimited string field as protobuf writes it (names here are shorter than 128 bytes).</summary>
    private static byte[] WireOf(int field, string value) => [(byte)((field << 3) | 2), (byte)value.Length, .. System.Text.Encoding.UTF8.GetBytes(value)];

    [Fact]
    public async Task Repository_rpcs_index_load_and_unload()
    {
        using var client = fixture.GrpcClient();

        var index = await client.GetRepositoryIndexAsync();
        Assert.Equal("READY", index.Single(m => m.Name == "simple").State);
        Assert.Equal("UNAVAILABLE", index.Single(m => m.Name == "corrupt").State);

        await client.UnloadModelAsync("identity_uint16");
        Assert.False(await client.IsModelReadyAsync("identity_uint16"));
        await client.LoadModelAsync("identity_uint16");
        Assert.True(await client.IsModelReadyAsync("identity_uint16"));

        var error = await Assert.ThrowsAsync<TurbineClientException>(() => client.LoadModelAsync("missing"));
        Assert.Equal(StatusCode.NotFound, error.Code);
    }

    [Fact]
    public async Task Statistics_rpc_reports_counts()
    {
        using var client = fixture.GrpcClient();
        using var request = RestEndpointTests.SimpleRequest();
        using (await client.InferAsync(request))
        {
        }

        var stats = await client.GetModelStatisticsAsync("simple");

        Assert.True(stats.Single().SuccessCount >= 1);
        Assert.True(stats.Single().ComputeInferNanoseconds > 0);
    }

    [Fact]
    public async Task Health_checking_service_reports_serving()
    {
        var health = new Health.HealthClient(_channel);

        var response = await health.CheckAsync(new HealthCheckRequest());

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }

    [Fact]
    public async Task Server_reflection_lists_the_inference_service()
    {
        var reflection = new ServerReflection.ServerReflectionClient(_channel);
        using var call = reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();

        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains("inference.GRPCInferenceService", services);
    }

    private static ModelInferRequest.Types.InferInputTensor RawInput(string name, string datatype, long[] shape)
    {
        var input = new ModelInferRequest.Types.InferInputTensor { Name = name, Datatype = datatype };
        input.Shape.AddRange(shape);
        return input;
    }

    private static ModelInferRequest.Types.InferInputTensor Input(string name, string datatype, long[] shape, Action<InferTensorContents> fill)
    {
        var input = RawInput(name, datatype, shape);
        input.Contents = new InferTensorContents();
        fill(input.Contents);
        return input;
    }
}
