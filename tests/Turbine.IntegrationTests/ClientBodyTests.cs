using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Turbine.Onnx.Tools;

namespace Turbine.IntegrationTests;

/// <summary>Bodies and content types as real clients send them: Triton's aio client, plain <c>curl -d</c>, no type at all.</summary>
[Collection(ServerCollection.Name)]
public sealed class ClientBodyTests(ServerFixture fixture)
{
    private const string SimpleBody = """
        {"inputs":[{"name":"INPUT0","shape":[1,16],"datatype":"INT32","data":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]},
                   {"name":"INPUT1","shape":[1,16],"datatype":"INT32","data":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}]}
        """;

    [Theory]
    [InlineData("v2/repository/index")]
    [InlineData("v2/repository/models/mlp/load")]
    public async Task An_empty_repository_request_is_taken_whatever_its_content_type(string path)
    {
        using var content = new ByteArrayContent([]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream"); // what tritonclient.http.aio sends

        using var response = await fixture.Http.PostAsync(path, content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_repository_body_that_is_not_json_is_still_refused()
    {
        using var content = new ByteArrayContent("{\"ready\":true}"u8.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-java-serialized-object");

        using var response = await fixture.Http.PostAsync("v2/repository/index", content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Theory]
    [InlineData("application/x-www-form-urlencoded")] // curl -d
    [InlineData(null)]
    public async Task An_infer_body_sent_as_a_form_or_untyped_reads_as_json(string? contentType)
    {
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(SimpleBody));
        content.Headers.ContentType = contentType is null ? null : new MediaTypeHeaderValue(contentType);

        using var response = await fixture.Http.PostAsync("v2/models/simple/infer", content);

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        using var json = JsonDocument.Parse(text);
        var sum = json.RootElement.GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("name").GetString() == "OUTPUT0");
        Assert.Equal(Enumerable.Range(1, 16), sum.GetProperty("data").EnumerateArray().Select(v => v.GetInt32()));
    }
}

/// <summary>The body limit: exactly the limit is taken, one byte more gets a JSON error whichever way it is sent.</summary>
public sealed class BodyLimitTests : IAsyncLifetime
{
    private const int Limit = 4096; // a power of two, as the default is: the pooled buffer is then exactly the limit

    private readonly FolderServer _server = new();

    public async Task InitializeAsync()
    {
        _server.Folder.Add("identity_fp32", SampleModels.Identity(DataType.Fp32));
        await _server.StartAsync(options => options.MaxRequestBodyBytes = Limit);
    }

    public Task DisposeAsync() => _server.DisposeAsync().AsTask();

    [Fact]
    public async Task A_body_of_exactly_the_limit_is_accepted()
    {
        using var response = await _server.Http.PostAsync("v2/models/identity_fp32/infer", Body(Limit, chunked: false));

        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(false)] // Content-Length over the limit: Kestrel's own check
    [InlineData(true)] // chunked: counted while read
    public async Task A_body_over_the_limit_gets_a_json_error(bool chunked)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, "v2/models/identity_fp32/infer") { Content = Body(Limit + 1, chunked) };
        message.Headers.TransferEncodingChunked = chunked;
        using var response = await _server.Http.SendAsync(message);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal($"the request body is larger than {Limit} bytes (after decompression)", json.RootElement.GetProperty("error").GetString());
    }

    /// <summary>A valid request padded with spaces to <paramref name="bytes"/>.</summary>
    private static HttpContent Body(int bytes, bool chunked)
    {
        var json = """{"inputs":[{"name":"INPUT0","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}""";
        var padded = Encoding.UTF8.GetBytes(json.PadRight(bytes));
        HttpContent content = chunked ? new StreamContent(new MemoryStream(padded)) : new ByteArrayContent(padded);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }
}
