using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Turbine.Onnx.Tools;

namespace Turbine.IntegrationTests;

/// <summary>
/// The binary tensor extension's raw request, as <c>curl --data-binary @input.bin -H "Inference-Header-Content-Length: 0"</c>
/// sends it: no JSON header, the body is the one input's data, the shape comes from the model config, and every
/// output comes back binary. Refusals are worded as Triton's.
/// </summary>
public sealed class RawBinaryRequestTests : IAsyncLifetime
{
    private readonly FolderServer _server = new();

    public async Task InitializeAsync()
    {
        _server.Folder
            .Add("vector", SampleModels.Identity(DataType.Fp32)) // batching, dims [-1]
            .Add("square", SampleModels.Identity(DataType.Fp32, -1, 4), """
                { "max_batch_size": 4,
                  "input": [ { "name": "INPUT0", "data_type": "TYPE_FP32", "dims": [2, 2], "reshape": { "shape": [4] } } ],
                  "output": [ { "name": "OUTPUT0", "data_type": "TYPE_FP32", "dims": [2, 2], "reshape": { "shape": [4] } } ] }
                """)
            .Add("matrix", SampleModels.Identity(DataType.Fp32), """{ "max_batch_size": 0 }""") // dims [-1, -1]
            .Add("text", SampleModels.Identity(DataType.Bytes, 1), """{ "max_batch_size": 0 }""")
            .Add("texts", SampleModels.Identity(DataType.Bytes)) // batching, dims [-1]
            .Add("simple", SampleModels.AddSub(DataType.Int32, 16));
        await _server.StartAsync();
    }

    public Task DisposeAsync() => _server.DisposeAsync().AsTask();

    [Fact]
    public async Task The_variable_dimension_is_deduced_from_the_body_and_the_outputs_come_back_binary()
    {
        float[] values = [1.5f, -2, 3, 4, 5, 6, 7, 8.25f];

        var (header, data) = await InferAsync("vector", MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

        var output = header.RootElement.GetProperty("outputs")[0];
        Assert.Equal("OUTPUT0", output.GetProperty("name").GetString());
        Assert.Equal("FP32", output.GetProperty("datatype").GetString());
        Assert.Equal([1, 8], output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        Assert.Equal(32, output.GetProperty("parameters").GetProperty("binary_data_size").GetInt32());
        Assert.Equal(values, MemoryMarshal.Cast<byte, float>(data).ToArray());
    }

    [Fact]
    public async Task A_fixed_shape_gets_a_batch_of_one_in_front()
    {
        float[] values = [1, 2, 3, 4];

        var (header, data) = await InferAsync("square", MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

        Assert.Equal([1, 2, 2], header.RootElement.GetProperty("outputs")[0].GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        Assert.Equal(values, MemoryMarshal.Cast<byte, float>(data).ToArray());
    }

    [Fact]
    public async Task A_bytes_input_of_shape_one_takes_the_whole_body_as_its_one_element()
    {
        var text = "hello, raw world"u8.ToArray();

        var (header, data) = await InferAsync("text", text);

        Assert.Equal([1], header.RootElement.GetProperty("outputs")[0].GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        Assert.Equal(text.Length, (int)BinaryPrimitives.ReadUInt32LittleEndian(data));
        Assert.Equal(text, data[sizeof(uint)..]);
    }

    [Theory]
    [InlineData("simple", 64, "Raw request must only have 1 input (found 1) to be deduced but got 2 inputs in 'simple' model configuration")]
    [InlineData("matrix", 16, "The shape of the raw input 'INPUT0' can not be deduced because there are more than one variable-sized dimension")]
    [InlineData("texts", 5, "For BYTE datatype raw input, the model must have input shape [1]")]
    [InlineData("square", 12, "unexpected total byte size 12 for input 'INPUT0', expecting 16")]
    [InlineData("vector", 6, "unexpected total byte size 6 for input 'INPUT0', expecting 4")]
    public async Task A_body_whose_shape_cannot_be_deduced_is_refused_in_Tritons_words(string model, int bytes, string expected)
    {
        using var response = await PostRawAsync(model, new byte[bytes]);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains(expected, error.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_raw_request_to_an_unknown_model_is_not_found()
    {
        using var response = await PostRawAsync("missing", new byte[16]);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private async Task<(JsonDocument Header, byte[] Data)> InferAsync(string model, byte[] body)
    {
        using var response = await PostRawAsync(model, body);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.IsSuccessStatusCode, Encoding.UTF8.GetString(bytes));
        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType?.MediaType);
        var headerLength = int.Parse(response.Headers.GetValues("Inference-Header-Content-Length").Single(), System.Globalization.CultureInfo.InvariantCulture);
        return (JsonDocument.Parse(bytes.AsMemory(0, headerLength)), bytes[headerLength..]);
    }

    private async Task<HttpResponseMessage> PostRawAsync(string model, byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var message = new HttpRequestMessage(HttpMethod.Post, $"v2/models/{model}/infer") { Content = content };
        message.Headers.TryAddWithoutValidation("Inference-Header-Content-Length", "0");
        return await _server.Http.SendAsync(message);
    }
}
