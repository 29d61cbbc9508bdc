using System.Net;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Net.Client;
using Turbine.Client;
using Turbine.Onnx.Tools;
using Turbine.Protocols.Grpc;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>
/// Triton's load with files: <c>{"parameters": {"config": "...", "file:1/model.onnx": "&lt;base64&gt;"}}</c> over REST
/// and <c>bytes_param</c> over gRPC. The files are staged in a fresh folder and serve the model; a load without files
/// goes back to the repository's own folder.
/// </summary>
public sealed class ModelUploadTests : IAsyncLifetime
{
    private const string IdentityConfig = """{ "max_batch_size": 4, "input": [ { "name": "INPUT0", "data_type": "TYPE_FP32", "dims": [ 3 ] } ], "output": [ { "name": "OUTPUT0", "data_type": "TYPE_FP32", "dims": [ 3 ] } ] }""";

    private readonly FolderServer _server = new();

    public async Task InitializeAsync()
    {
        _server.Folder.Add("simple", SampleModels.AddSub(DataType.Int32, 4));
        await _server.StartAsync(options => options.ModelControlMode = Turbine.Server.Hosting.ModelControlMode.Explicit);
    }

    public Task DisposeAsync() => _server.DisposeAsync().AsTask();

    [Fact]
    public async Task A_model_sent_in_the_load_request_serves_and_is_listed_without_touching_the_repository()
    {
        using var response = await LoadAsync("uploaded", IdentityConfig, ("1/model.onnx", SampleModels.Identity(DataType.Fp32, -1, 3)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new[] { 1.5f, 2, 3 }, await InferIdentityAsync("uploaded"));
        Assert.Contains(await new TurbineHttpClient(_server.Http).GetRepositoryIndexAsync(), m => m.Name == "uploaded" && m.State == "READY");
        Assert.False(Directory.Exists(Path.Combine(_server.Folder.Root, "uploaded"))); // staged apart, under .staging
    }

    [Fact]
    public async Task Files_replace_a_repository_model_until_a_load_without_files_brings_the_repository_back()
    {
        using (var replaced = await LoadAsync("simple", """{ "max_batch_size": 8, "version_policy": { "all": {} }, "input": [ { "name": "INPUT0", "data_type": "TYPE_INT32", "dims": [ 4 ] }, { "name": "INPUT1", "data_type": "TYPE_INT32", "dims": [ 4 ] } ], "output": [ { "name": "OUTPUT0", "data_type": "TYPE_INT32", "dims": [ 4 ] }, { "name": "OUTPUT1", "data_type": "TYPE_INT32", "dims": [ 4 ] } ] }""",
            ("1/model.onnx", SampleModels.AddSub(DataType.Int32, 4)), ("2/model.onnx", SampleModels.AddSub(DataType.Int32, 4))))
        {
            Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        }

        var client = new TurbineHttpClient(_server.Http);
        Assert.Equal(2, (await client.GetRepositoryIndexAsync()).Count(m => m.Name == "simple")); // the upload has two versions

        await client.LoadModelAsync("simple"); // no files: the repository's folder, one version

        Assert.Single(await client.GetRepositoryIndexAsync(), m => m.Name == "simple");
    }

    [Fact]
    public async Task The_cli_sends_a_model_with_its_load()
    {
        var folder = Directory.CreateTempSubdirectory("turbine-upload").FullName;
        try
        {
            var config = Path.Combine(folder, "config.json");
            var model = Path.Combine(folder, "identity.onnx");
            await File.WriteAllTextAsync(config, IdentityConfig);
            await File.WriteAllBytesAsync(model, SampleModels.Identity(DataType.Fp32, -1, 3));

            var output = await CliProcess.RunAsync("models", "load", "from_cli", "--config", config, "--file", "1/model.onnx=" + model, "--url", _server.Http.BaseAddress!.ToString());

            Assert.Contains("from_cli loaded", output, StringComparison.Ordinal);
            Assert.Equal(new[] { 1.5f, 2, 3 }, await InferIdentityAsync("from_cli"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Grpc_takes_the_files_as_bytes()
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_server.Server.GrpcPort}");
        var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        var request = new RepositoryModelLoadRequest { ModelName = "over_grpc" };
        request.Parameters["config"] = new ModelRepositoryParameter { StringParam = IdentityConfig };
        request.Parameters["file:1/model.onnx"] = new ModelRepositoryParameter { BytesParam = ByteString.CopyFrom(SampleModels.Identity(DataType.Fp32, -1, 3)) };

        await grpc.RepositoryModelLoadAsync(request);

        Assert.Equal(new[] { 1.5f, 2, 3 }, await InferIdentityAsync("over_grpc"));
    }

    [Theory]
    [InlineData(null, "1/model.onnx", "need the model's configuration in the 'config' parameter")]
    [InlineData(IdentityConfig, "1/model.onnx", "not a valid ONNX model")] // files that are no model fail like a broken repository model
    public async Task A_load_with_files_that_cannot_serve_fails_and_leaves_nothing_behind(string? config, string path, string expected)
    {
        using var response = await LoadAsync("broken_upload", config, (path, "not a model"u8.ToArray()));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        var staging = Path.Combine(_server.Folder.Root, ".staging");
        Assert.True(!Directory.Exists(staging) || Directory.GetFileSystemEntries(staging).Length == 0);
    }

    private async Task<HttpResponseMessage> LoadAsync(string model, string? config, params (string Path, byte[] Content)[] files)
    {
        var parameters = new Dictionary<string, string>();
        if (config is not null)
        {
            parameters["config"] = config;
        }

        foreach (var (path, content) in files)
        {
            parameters["file:" + path] = Convert.ToBase64String(content);
        }

        var body = JsonSerializer.Serialize(new { parameters });
        return await _server.Http.PostAsync($"v2/repository/models/{model}/load", new StringContent(body, Encoding.UTF8, "application/json"));
    }

    private async Task<float[]> InferIdentityAsync(string model)
    {
        using var request = new InferenceRequest { ModelName = model };
        request.Inputs.Add(Tensor.FromArray<float>("INPUT0", [1, 3], [1.5f, 2, 3]));
        using var response = await new TurbineHttpClient(_server.Http).InferAsync(request);
        return response.Outputs[0].ToArray<float>();
    }
}
