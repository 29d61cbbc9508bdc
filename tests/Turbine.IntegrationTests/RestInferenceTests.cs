using System.Net;
using System.Text;
using System.Text.Json;

namespace Turbine.IntegrationTests;

[Collection(ServerCollection.Name)]
public sealed class RestInferenceTests(ServerFixture fixture)
{
    private readonly HttpClient _http = fixture.Http;

    public static TheoryData<DataType> AllTypes() => TestTensors.AllTypes();

    [Theory]
    [MemberData(nameof(AllTypes))]
    public async Task Every_datatype_round_trips_as_json(DataType type) => await RoundTripAsync(type, binary: false);

    [Theory]
    [MemberData(nameof(AllTypes))]
    public async Task Every_datatype_round_trips_in_binary_form(DataType type) => await RoundTripAsync(type, binary: true);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Bytes_that_are_not_utf8_come_back_binary_or_as_an_error_never_replaced(bool binaryOutput)
    {
        byte[] element = [0xC3, 0x28, 0xFF, 0x41]; // an invalid two-byte sequence, a byte UTF-8 never uses, 'A'
        var size = 4 + element.Length;
        var header = "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,1],\"datatype\":\"BYTES\",\"parameters\":{\"binary_data_size\":" + size + "}}]," +
            "\"outputs\":[{\"name\":\"OUTPUT0\",\"parameters\":{\"binary_data\":" + (binaryOutput ? "true" : "false") + "}}]}";
        var headerBytes = Encoding.UTF8.GetBytes(header);
        using var content = new ByteArrayContent([.. headerBytes, .. BitConverter.GetBytes(element.Length), .. element]);
        content.Headers.ContentType = new("application/octet-stream");
        using var message = new HttpRequestMessage(HttpMethod.Post, "v2/models/identity_bytes/infer") { Content = content };
        message.Headers.TryAddWithoutValidation("Inference-Header-Content-Length", headerBytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));

        using var response = await _http.SendAsync(message);

        var bytes = await response.Content.ReadAsByteArrayAsync();
        if (binaryOutput)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(element, bytes[^element.Length..]);
        }
        else
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            using var error = JsonDocument.Parse(bytes);
            Assert.Equal(
                "output 'OUTPUT0' holds BYTES that are not valid UTF-8, which JSON cannot carry; request it with \"binary_data\": true",
                error.RootElement.GetProperty("error").GetString());
        }
    }

    [Fact]
    public async Task Simple_adds_and_subtracts_with_flat_json_data_and_echoes_the_id()
    {
        var body = """
            {"id":"req-1","inputs":[
              {"name":"INPUT0","shape":[1,16],"datatype":"INT32","data":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]},
              {"name":"INPUT1","shape":[1,16],"datatype":"INT32","data":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}]}
            """;

        using var response = await PostAsync("v2/models/simple/infer", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(
            """{"model_name":"simple","model_version":"1","id":"req-1","outputs":[{"name":"OUTPUT0","datatype":"INT32","shape":[1,16],"data":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]},{"name":"OUTPUT1","datatype":"INT32","shape":[1,16],"data":[-1,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14]}]}""",
            await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Nested_data_and_a_batch_of_two_work_on_a_versioned_route()
    {
        var row = string.Join(",", Enumerable.Repeat(2, 16));
        var body = $$"""{"inputs":[{"name":"INPUT0","shape":[2,16],"datatype":"INT32","data":[[{{row}}],[{{row}}]]},{"name":"INPUT1","shape":[2,16],"datatype":"INT32","data":[[{{row}}],[{{row}}]]}],"outputs":[{"name":"OUTPUT1"}]}""";

        using var response = await PostAsync("v2/models/simple/versions/1/infer", body);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        var output = Assert.Single(document.RootElement.GetProperty("outputs").EnumerateArray());
        Assert.Equal("OUTPUT1", output.GetProperty("name").GetString());
        Assert.Equal([2L, 16L], output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        Assert.All(output.GetProperty("data").EnumerateArray(), v => Assert.Equal(0, v.GetInt32()));
    }

    [Fact]
    public async Task Requested_binary_outputs_come_after_the_json_header()
    {
        var body = """
            {"inputs":[{"name":"INPUT0","shape":[1,16],"datatype":"INT32","data":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]},
                       {"name":"INPUT1","shape":[1,16],"datatype":"INT32","data":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]}],
             "outputs":[{"name":"OUTPUT0","parameters":{"binary_data":true}},{"name":"OUTPUT1","parameters":{"binary_data":false}}]}
            """;

        using var response = await PostAsync("v2/models/simple/infer", body);

        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType?.MediaType);
        var headerLength = int.Parse(response.Headers.GetValues("Inference-Header-Content-Length").Single(), System.Globalization.CultureInfo.InvariantCulture);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        using var header = JsonDocument.Parse(bytes.AsMemory(0, headerLength));
        Assert.Equal(64, header.RootElement.GetProperty("outputs")[0].GetProperty("parameters").GetProperty("binary_data_size").GetInt32());
        Assert.Equal(16, header.RootElement.GetProperty("outputs")[1].GetProperty("data").GetArrayLength());
        Assert.Equal(headerLength + 64, bytes.Length);
        var sums = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(bytes.AsSpan(headerLength)).ToArray();
        Assert.Equal(Enumerable.Range(0, 16).Select(i => i * 2), sums);
    }

    [Fact]
    public async Task Binary_data_output_parameter_makes_every_output_binary()
    {
        using var client = fixture.RestClient();
        using var request = RestEndpointTests.SimpleRequest();
        request.BinaryDataOutputByDefault = true;

        using var response = await client.InferAsync(request);

        Assert.Equal(Enumerable.Range(1, 16), response.Outputs[0].ToArray<int>());
        Assert.Equal(Enumerable.Range(-1, 16), response.Outputs[1].ToArray<int>());
    }

    [Fact]
    public async Task The_string_model_upper_cases_bytes_tensors()
    {
        using var client = fixture.RestClient(binary: false);
        using var request = new InferenceRequest { ModelName = "string_upper" };
        request.Inputs.Add(Tensor.FromStrings("TEXT", [3], ["hello", "World", ""]));

        using var response = await client.InferAsync(request);

        Assert.Equal(["HELLO", "WORLD", ""], response.Outputs[0].ToStrings());
    }

    [Fact]
    public async Task The_mlp_classifies_a_batch()
    {
        using var client = fixture.RestClient();
        using var request = new InferenceRequest { ModelName = "mlp" };
        request.Inputs.Add(Tensor.FromArray<float>("features", [3, 4], [5.1f, 3.5f, 1.4f, 0.2f, 6.2f, 2.9f, 4.3f, 1.3f, 7.7f, 3.0f, 6.1f, 2.3f]));

        using var response = await client.InferAsync(request);

        var probabilities = response.Outputs.Single(o => o.Name == "probabilities");
        var labels = response.Outputs.Single(o => o.Name == "label").ToArray<long>();
        Assert.Equal([3L, 3L], probabilities.Shape);
        Assert.Equal(3, labels.Length);
        var values = probabilities.ToArray<float>();
        for (var row = 0; row < 3; row++)
        {
            Assert.Equal(1f, values.AsSpan(row * 3, 3).ToArray().Sum(), 4);
        }
    }

    [Fact]
    public async Task Reshape_in_the_config_maps_client_shapes_to_the_models_and_back()
    {
        using var client = fixture.RestClient();
        using var request = new InferenceRequest { ModelName = "reshaped" };
        request.Inputs.Add(Tensor.FromArray<float>("INPUT0", [2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]));

        using var response = await client.InferAsync(request);

        Assert.Equal([2L, 2L, 2L], response.Outputs[0].Shape);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f], response.Outputs[0].ToArray<float>());
        var metadata = await client.GetModelMetadataAsync("reshaped");
        Assert.Equal([-1L, 2L, 2L], metadata.Inputs[0].Shape);
    }

    [Fact]
    public async Task Gzip_encoded_requests_are_accepted()
    {
        var json = """{"inputs":[{"name":"INPUT0","shape":[1,2],"datatype":"FP32","data":[1.5,2.5]}]}""";
        using var content = new ByteArrayContent(Gzip(Encoding.UTF8.GetBytes(json)));
        content.Headers.ContentType = new("application/json");
        content.Headers.ContentEncoding.Add("gzip");

        using var response = await _http.PostAsync("v2/models/identity_fp32/infer", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"data\":[1.5,2.5]", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    internal static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Fastest))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    private async Task RoundTripAsync(DataType type, bool binary)
    {
        using var client = fixture.RestClient(binary);
        using var request = new InferenceRequest { ModelName = ServerFixture.IdentityName(type) };
        request.Inputs.Add(TestTensors.Sample("INPUT0", type));
        request.Outputs.Add(new RequestedOutput("OUTPUT0", BinaryData: binary));

        using var response = await client.InferAsync(request);

        var output = Assert.Single(response.Outputs);
        Assert.Equal(type, output.DataType);
        Assert.Equal([2L, 3L], output.Shape);
        Assert.Equal(TestTensors.Bytes(request.Inputs[0]), TestTensors.Bytes(output));
    }

    private Task<HttpResponseMessage> PostAsync(string path, string json) =>
        _http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
}
