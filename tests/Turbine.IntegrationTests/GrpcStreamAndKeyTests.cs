using Grpc.Core;
using Grpc.Net.Client;
using Turbine.Client;
using Turbine.Onnx.Tools;
using Turbine.Protocols.Grpc;
using Turbine.Server.Hosting;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>gRPC streams keep many requests in flight; API keys are checked before a message is read.</summary>
public sealed class GrpcStreamAndKeyTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_stream_answers_a_quick_request_while_an_earlier_one_is_still_running()
    {
        var backend = new GatedBackend { HeldModels = ["slow"] };
        backend.Gate.Reset();
        await using var server = new FolderServer();
        server.Folder.Add("slow", SampleModels.AddSub(DataType.Int32, 16)).Add("quick", SampleModels.AddSub(DataType.Int32, 16));
        await server.StartAsync(backend: backend);
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{server.Server.GrpcPort}");
        using var call = new GRPCInferenceService.GRPCInferenceServiceClient(channel).ModelStreamInfer();
        try
        {
            await call.RequestStream.WriteAsync(Message("slow", "first"));
            Assert.True(await backend.Entered.WaitAsync(Patience)); // held in the model
            await call.RequestStream.WriteAsync(Message("quick", "second"));

            Assert.True(await call.ResponseStream.MoveNext().WaitAsync(Patience)); // one at a time, this would wait for "first"
            Assert.Equal("second", call.ResponseStream.Current.InferResponse.Id);
            Assert.Equal("", call.ResponseStream.Current.ErrorMessage);
        }
        finally
        {
            backend.Gate.Set();
        }

        Assert.True(await call.ResponseStream.MoveNext().WaitAsync(Patience));
        Assert.Equal("first", call.ResponseStream.Current.InferResponse.Id);
        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext().WaitAsync(Patience));
    }

    [Fact]
    public async Task A_message_without_a_valid_key_is_refused_before_it_is_read()
    {
        await using var server = new FolderServer();
        server.Folder.Add("simple", SampleModels.AddSub(DataType.Int32, 16));
        await server.StartAsync(options =>
        {
            options.ApiKeys.Add(new ApiKeyOptions { Key = "a-key-of-sixteen-chars" });
            options.MaxGrpcMessageBytes = 1024 * 1024;
        });
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{server.Server.GrpcPort}");
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        var oversized = Message("simple", "big");
        oversized.RawInputContents[0] = Google.Protobuf.ByteString.CopyFrom(new byte[2 * 1024 * 1024]); // over the limit

        var anonymous = await Assert.ThrowsAsync<RpcException>(() => client.ModelInferAsync(oversized).ResponseAsync);
        var wrongKey = await Assert.ThrowsAsync<RpcException>(() => client.ModelInferAsync(oversized, new Metadata { { "authorization", "Bearer not-the-key-at-all" } }).ResponseAsync);
        var rightKey = await Assert.ThrowsAsync<RpcException>(() => client.ModelInferAsync(oversized, new Metadata { { "authorization", "Bearer a-key-of-sixteen-chars" } }).ResponseAsync);

        // Reading the message first would have answered ResourceExhausted (too large) to all three.
        Assert.Equal(global::Grpc.Core.StatusCode.Unauthenticated, anonymous.StatusCode);
        Assert.Equal(global::Grpc.Core.StatusCode.Unauthenticated, wrongKey.StatusCode);
        Assert.Equal("the API key is not valid", wrongKey.Status.Detail);
        Assert.Equal(global::Grpc.Core.StatusCode.ResourceExhausted, rightKey.StatusCode);
        var ok = await client.ModelInferAsync(Message("simple", "ok"), new Metadata { { "authorization", "Bearer a-key-of-sixteen-chars" } });
        Assert.Equal("ok", ok.Id);
    }

    [Fact]
    public async Task A_refused_unary_call_reports_its_status_and_no_answer()
    {
        await using var server = new FolderServer();
        server.Folder.Add("simple", SampleModels.AddSub(DataType.Int32, 16));
        await server.StartAsync();
        using var client = new TurbineGrpcClient(new Uri($"http://127.0.0.1:{server.Server.GrpcPort}"));

        var error = await Assert.ThrowsAsync<TurbineClientException>(() => client.InferAsync(new InferenceRequest { ModelName = "nope" }));

        Assert.Equal(StatusCode.NotFound, error.Code);
        Assert.Contains("'nope' is not found", error.Message, StringComparison.Ordinal);
    }

    private static ModelInferRequest Message(string model, string id)
    {
        using var request = RestEndpointTests.SimpleRequest(id);
        var message = TurbineGrpcClient.ToMessage(request);
        message.ModelName = model;
        return message;
    }
}
