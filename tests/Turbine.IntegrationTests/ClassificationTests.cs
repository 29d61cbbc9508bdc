using System.Net;
using System.Text;
using System.Text.Json;
using Grpc.Net.Client;
using Turbine.Protocols.Grpc;
using Turbine.Client;
using Turbine.Onnx.Tools;

namespace Turbine.IntegrationTests;

/// <summary>
/// The classification extension as Triton's clients ask for it: <c>"parameters": {"classification": N}</c> on a REST
/// output, <c>parameters["classification"].int64_param</c> on a gRPC one (what <c>class_count</c> sends).
/// </summary>
public sealed class ClassificationTests : IAsyncLifetime
{
    private const string Scores = """{"inputs":[{"name":"INPUT0","shape":[2,4],"datatype":"FP32","data":[1,5,10,4, 3,3,1,0]}],""";

    private readonly FolderServer _server = new();

    public async Task InitializeAsync()
    {
        _server.Folder
            .Add("labelled", SampleModels.Identity(DataType.Fp32, -1, 4), """
                { "max_batch_size": 8,
                  "input": [ { "name": "INPUT0", "data_type": "TYPE_FP32", "dims": [4] } ],
                  "output": [ { "name": "OUTPUT0", "data_type": "TYPE_FP32", "dims": [4], "label_filename": "labels.txt" } ] }
                """)
            .Add("unlabelled", SampleModels.Identity(DataType.Int32, -1, 4))
            .Add("texts", SampleModels.Identity(DataType.Bytes))
            .Add("escaping", SampleModels.Identity(DataType.Fp32, -1, 4), """
                { "output": [ { "name": "OUTPUT0", "data_type": "TYPE_FP32", "dims": [4], "label_filename": "../labelled/labels.txt" } ] }
                """);
        await File.WriteAllLinesAsync(Path.Combine(_server.Folder.Root, "labelled", "labels.txt"), ["ant", "bee", "cat", "dog"]);
        await _server.StartAsync();
    }

    public Task DisposeAsync() => _server.DisposeAsync().AsTask();

    [Fact]
    public async Task Rest_returns_the_top_classes_of_each_row_with_their_labels()
    {
        using var json = await InferAsync("labelled", Scores + """ "outputs":[{"name":"OUTPUT0","parameters":{"classification":2}}]}""", HttpStatusCode.OK);

        var output = json.RootElement.GetProperty("outputs")[0];
        Assert.Equal("BYTES", output.GetProperty("datatype").GetString());
        Assert.Equal([2, 2], output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        Assert.Equal(["10.000000:2:cat", "5.000000:1:bee", "3.000000:0:ant", "3.000000:1:bee"], output.GetProperty("data").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Grpc_class_count_gives_the_same_strings_and_an_integer_output_keeps_its_integers()
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_server.Server.GrpcPort}");
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        using var input = Tensor.FromArray<int>("INPUT0", [1, 4], [7, -2, 9, 0]);
        using var request = new InferenceRequest { ModelName = "unlabelled" };
        request.Inputs.Add(input);
        var message = TurbineGrpcClient.ToMessage(request);
        var output = new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "OUTPUT0" };
        output.Parameters["classification"] = new InferParameter { Int64Param = 3 };
        message.Outputs.Add(output);

        var answer = await client.ModelInferAsync(message);

        using var response = TurbineGrpcClient.FromMessage(answer);
        Assert.Equal([1, 3], response.Outputs[0].Shape);
        Assert.Equal(["9:2", "7:0", "0:3"], response.Outputs[0].ToStrings());
    }

    [Fact]
    public async Task A_count_above_the_classes_gives_every_class()
    {
        using var json = await InferAsync("labelled", Scores + """ "outputs":[{"name":"OUTPUT0","parameters":{"classification":10}}]}""", HttpStatusCode.OK);

        Assert.Equal([2, 4], json.RootElement.GetProperty("outputs")[0].GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
    }

    [Theory]
    [InlineData("labelled", """{"name":"OUTPUT0","parameters":{"classification":-1}}""", "the 'classification' parameter of output 'OUTPUT0' must be a non-negative integer")]
    [InlineData("labelled", """{"name":"OUTPUT0","parameters":{"classification":"2"}}""", "the 'classification' parameter of output 'OUTPUT0' must be a non-negative integer")]
    [InlineData("texts", """{"name":"OUTPUT0","parameters":{"classification":1}}""", "classification is not supported for output 'OUTPUT0' of type BYTES")]
    public async Task Classifications_that_cannot_be_made_are_refused(string model, string output, string expected)
    {
        var input = model == "texts"
            ? """{"inputs":[{"name":"INPUT0","shape":[1,1],"datatype":"BYTES","data":["x"]}],"""
            : Scores;

        using var json = await InferAsync(model, input + $$""" "outputs":[{{output}}]}""", HttpStatusCode.BadRequest);

        Assert.Equal(expected, json.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_label_file_outside_the_model_folder_fails_the_load_with_a_reason()
    {
        var index = await new TurbineHttpClient(_server.Http).GetRepositoryIndexAsync();

        var escaping = index.Single(m => m.Name == "escaping");
        Assert.Equal("UNAVAILABLE", escaping.State);
        Assert.Contains("label_filename '../labelled/labels.txt' must be a plain file", escaping.Reason, StringComparison.Ordinal);
    }

    private async Task<JsonDocument> InferAsync(string model, string body, HttpStatusCode expected)
    {
        using var response = await _server.Http.PostAsync($"v2/models/{model}/infer", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, text);
        return JsonDocument.Parse(text);
    }
}
