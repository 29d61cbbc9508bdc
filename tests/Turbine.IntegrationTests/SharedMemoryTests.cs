using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Turbine.Client;
using Turbine.Onnx.Tools;
using Turbine.Protocols.Grpc;

namespace Turbine.IntegrationTests;

/// <summary>
/// Triton's system shared-memory extension as its clients use it: a POSIX shared-memory object (a file under
/// <c>/dev/shm</c>, what <c>shm_open</c> makes) registered as a region, inputs read from it and outputs written into it.
/// </summary>
public sealed class SharedMemoryTests : IAsyncLifetime
{
    private readonly FolderServer _server = new();
    private readonly string _inputKey = "turbine_in_" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _outputKey = "turbine_out_" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>Where shm_open puts its objects; a machine without /dev/shm (a bare container) gets a folder of the test's own.</summary>
    private readonly string _folder = Directory.Exists("/dev/shm") ? "/dev/shm" : Directory.CreateTempSubdirectory("turbine-shm").FullName;

    private string InputFile => Path.Combine(_folder, _inputKey);

    private string OutputFile => Path.Combine(_folder, _outputKey);

    public async Task InitializeAsync()
    {
        _server.Folder.Add("simple", SampleModels.AddSub(DataType.Int32, 4));
        await _server.StartAsync(options =>
        {
            options.SharedMemory.Enabled = true;
            options.SharedMemory.Folder = _folder;
        });
        int[] inputs = [1, 2, 3, 4, 10, 10, 10, 10]; // INPUT0 at 0, INPUT1 at 16
        await File.WriteAllBytesAsync(InputFile, MemoryMarshal.AsBytes(inputs.AsSpan()).ToArray());
        await File.WriteAllBytesAsync(OutputFile, new byte[64]);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        File.Delete(InputFile);
        File.Delete(OutputFile);
    }

    [Fact]
    public async Task Rest_inputs_come_from_and_outputs_go_to_registered_regions()
    {
        await RegisterAsync("input_data", "/" + _inputKey, 0, 32);
        await RegisterAsync("output_data", "/" + _outputKey, 0, 64);

        var body = """
            {"inputs":[
              {"name":"INPUT0","shape":[1,4],"datatype":"INT32","parameters":{"shared_memory_region":"input_data","shared_memory_byte_size":16}},
              {"name":"INPUT1","shape":[1,4],"datatype":"INT32","parameters":{"shared_memory_region":"input_data","shared_memory_offset":16,"shared_memory_byte_size":16}}],
             "outputs":[
              {"name":"OUTPUT0","parameters":{"shared_memory_region":"output_data","shared_memory_byte_size":16}},
              {"name":"OUTPUT1","parameters":{"shared_memory_region":"output_data","shared_memory_offset":32,"shared_memory_byte_size":16}}]}
            """;
        using var json = await PostJsonAsync("v2/models/simple/infer", body, HttpStatusCode.OK);

        var first = json.RootElement.GetProperty("outputs")[0];
        Assert.False(first.TryGetProperty("data", out _));
        Assert.Equal("output_data", first.GetProperty("parameters").GetProperty("shared_memory_region").GetString());
        Assert.Equal(16, first.GetProperty("parameters").GetProperty("shared_memory_byte_size").GetInt32());
        var written = MemoryMarshal.Cast<byte, int>(await File.ReadAllBytesAsync(OutputFile)).ToArray();
        Assert.Equal([11, 12, 13, 14], written[..4]);
        Assert.Equal([-9, -8, -7, -6], written[8..12]);

        using var metadata = JsonDocument.Parse(await _server.Http.GetStringAsync("v2"));
        Assert.Contains("system_shared_memory", metadata.RootElement.GetProperty("extensions").EnumerateArray().Select(e => e.GetString()));
        using var status = JsonDocument.Parse(await _server.Http.GetStringAsync("v2/systemsharedmemory/status"));
        Assert.Equal(["input_data", "output_data"], status.RootElement.EnumerateArray().Select(r => r.GetProperty("name").GetString()));
        Assert.Equal("/" + _inputKey, status.RootElement[0].GetProperty("key").GetString());
        Assert.Equal(32, status.RootElement[0].GetProperty("byte_size").GetInt32());

        using (await PostJsonAsync("v2/systemsharedmemory/region/input_data/unregister", "", HttpStatusCode.OK))
        {
        }

        using var gone = await _server.Http.GetAsync("v2/systemsharedmemory/region/input_data/status");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Grpc_registers_regions_and_infers_through_them_without_raw_contents()
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_server.Server.GrpcPort}");
        var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        await grpc.SystemSharedMemoryRegisterAsync(new SystemSharedMemoryRegisterRequest { Name = "in", Key = "/" + _inputKey, ByteSize = 32 });
        await grpc.SystemSharedMemoryRegisterAsync(new SystemSharedMemoryRegisterRequest { Name = "out", Key = "/" + _outputKey, ByteSize = 64 });
        var request = new ModelInferRequest { ModelName = "simple" };
        foreach (var (name, offset) in new[] { ("INPUT0", 0L), ("INPUT1", 16L) })
        {
            var input = new ModelInferRequest.Types.InferInputTensor { Name = name, Datatype = "INT32", Shape = { 1, 4 } };
            input.Parameters["shared_memory_region"] = new InferParameter { StringParam = "in" };
            input.Parameters["shared_memory_offset"] = new InferParameter { Int64Param = offset };
            input.Parameters["shared_memory_byte_size"] = new InferParameter { Int64Param = 16 };
            request.Inputs.Add(input);
        }

        var output = new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "OUTPUT0" };
        output.Parameters["shared_memory_region"] = new InferParameter { StringParam = "out" };
        output.Parameters["shared_memory_byte_size"] = new InferParameter { Int64Param = 16 };
        request.Outputs.Add(output);

        var response = await grpc.ModelInferAsync(request);

        Assert.Empty(response.RawOutputContents);
        Assert.Equal("out", response.Outputs[0].Parameters["shared_memory_region"].StringParam);
        var written = MemoryMarshal.Cast<byte, int>(await File.ReadAllBytesAsync(OutputFile)).ToArray();
        Assert.Equal([11, 12, 13, 14], written[..4]);
        var status = await grpc.SystemSharedMemoryStatusAsync(new SystemSharedMemoryStatusRequest());
        Assert.Equal(["in", "out"], status.Regions.Keys.Order());
        var cuda = await Assert.ThrowsAsync<RpcException>(async () => await grpc.CudaSharedMemoryStatusAsync(new CudaSharedMemoryStatusRequest()));
        Assert.Contains("CUDA shared memory is not supported", cuda.Status.Detail, StringComparison.Ordinal);
    }

    /// <summary>SECURITY.md: the shared-memory family. Keys never reach a file outside /dev/shm; places never leave their region.</summary>
    [Theory]
    [InlineData("/../etc/passwd", 0, 16, "must be '/' and a plain name")]
    [InlineData("etc", 0, 16, "must be '/' and a plain name")]
    [InlineData("/a/b", 0, 16, "must be '/' and a plain name")]
    [InlineData("/", 0, 16, "must be '/' and a plain name")]
    [InlineData("/turbine_no_such_object", 0, 16, "Unable to open shared memory region")]
    [InlineData("{input}", 0, 33, "is past the end of")]
    [InlineData("{input}", 30, 8, "is past the end of")]
    [InlineData("{input}", -1, 8, "needs an offset of 0 or more")]
    [InlineData("{input}", 0, 0, "byte_size above 0")]
    public async Task Hostile_registrations_are_refused(string key, long offset, long byteSize, string expected)
    {
        var body = JsonSerializer.Serialize(new { key = key.Replace("{input}", "/" + _inputKey, StringComparison.Ordinal), offset, byte_size = byteSize });

        using var error = await PostJsonAsync("v2/systemsharedmemory/region/hostile/register", body, HttpStatusCode.BadRequest);

        Assert.Contains(expected, error.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        using var status = JsonDocument.Parse(await _server.Http.GetStringAsync("v2/systemsharedmemory/status"));
        Assert.Equal(0, status.RootElement.GetArrayLength());
    }

    [Theory]
    [InlineData("input_data", 24, 16, "Invalid offset + byte size for shared memory region: 'input_data'")]
    [InlineData("input_data", 0, 12, "unexpected total byte size 12 for input 'INPUT0', expecting 16")]
    [InlineData("nowhere", 0, 16, "Unable to find shared memory region: 'nowhere'")]
    public async Task Inputs_placed_outside_their_region_are_refused(string region, long offset, long byteSize, string expected)
    {
        await RegisterAsync("input_data", "/" + _inputKey, 0, 32);
        var place = $"\"shared_memory_region\":\"{region}\",\"shared_memory_offset\":{offset},\"shared_memory_byte_size\":{byteSize}";
        var body = "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,4],\"datatype\":\"INT32\",\"parameters\":{" + place + "}}," +
            "{\"name\":\"INPUT1\",\"shape\":[1,4],\"datatype\":\"INT32\",\"data\":[1,1,1,1]}]}";

        using var error = await PostJsonAsync("v2/models/simple/infer", body, HttpStatusCode.BadRequest);

        Assert.Equal(expected, error.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Registering_a_name_twice_is_refused_and_the_first_region_stays()
    {
        await RegisterAsync("twice", "/" + _inputKey, 0, 32);

        using var error = await PostJsonAsync("v2/systemsharedmemory/region/twice/register", $$"""{"key":"/{{_outputKey}}","byte_size":64}""", HttpStatusCode.BadRequest);

        Assert.Equal("shared memory region 'twice' already in manager", error.RootElement.GetProperty("error").GetString());
        using var status = JsonDocument.Parse(await _server.Http.GetStringAsync("v2/systemsharedmemory/region/twice/status"));
        Assert.Equal("/" + _inputKey, status.RootElement[0].GetProperty("key").GetString());
    }

    private async Task RegisterAsync(string name, string key, long offset, long byteSize)
    {
        using var _ = await PostJsonAsync($"v2/systemsharedmemory/region/{name}/register", JsonSerializer.Serialize(new { key, offset, byte_size = byteSize }), HttpStatusCode.OK);
    }

    private async Task<JsonDocument> PostJsonAsync(string path, string body, HttpStatusCode expected)
    {
        using var response = await _server.Http.PostAsync(path, body.Length == 0 ? null : new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, text);
        return JsonDocument.Parse(text);
    }
}

/// <summary>With the extension off (the default) every shared-memory call and every placed tensor is refused plainly.</summary>
[Collection(ServerCollection.Name)]
public sealed class SharedMemoryDisabledTests(ServerFixture fixture)
{
    [Theory]
    [InlineData("GET", "v2/systemsharedmemory/status", "system shared memory is not enabled on this server")]
    [InlineData("POST", "v2/cudasharedmemory/region/x/register", "CUDA shared memory is not supported")]
    [InlineData("POST", "v2/models/simple/infer", "system shared memory is not enabled on this server")]
    public async Task Calls_are_refused_with_the_reason(string method, string path, string expected)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (path.EndsWith("infer", StringComparison.Ordinal))
        {
            request.Content = new StringContent("""{"inputs":[{"name":"INPUT0","shape":[1,16],"datatype":"INT32","parameters":{"shared_memory_region":"r","shared_memory_byte_size":64}},{"name":"INPUT1","shape":[1,16],"datatype":"INT32","parameters":{"shared_memory_region":"r","shared_memory_byte_size":64}}]}""", Encoding.UTF8, "application/json");
        }

        using var response = await fixture.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
