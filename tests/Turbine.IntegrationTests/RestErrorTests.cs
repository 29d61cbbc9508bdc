using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Turbine.IntegrationTests;

/// <summary>The protocol's error cases over REST, with golden bodies; after each the server still serves.</summary>
[Collection(ServerCollection.Name)]
public sealed class RestErrorTests(ServerFixture fixture) : IAsyncLifetime
{
    private const string Input1 = """{"name":"INPUT1","shape":[1,16],"datatype":"INT32","data":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}""";
    private const string Input0 = """{"name":"INPUT0","shape":[1,16],"datatype":"INT32","data":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]}""";
    private static readonly System.Text.Json.JsonSerializerOptions RelaxedJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly HttpClient _http = fixture.Http;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        using var live = await _http.GetAsync("v2/health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    public static TheoryData<string, string, HttpStatusCode, string> ProtocolErrors() => new()
    {
        { "unknown model", "v2/models/nope/infer", HttpStatusCode.NotFound, "Request for unknown model: 'nope' is not found" },
        { "unknown version", "v2/models/simple/versions/3/infer", HttpStatusCode.NotFound, "Request for unknown model: 'simple' version 3 is not found" },
        { "non-ready model", "v2/models/corrupt/infer", HttpStatusCode.ServiceUnavailable, "Request for unknown model: 'corrupt' has no available versions" },
    };

    [Theory]
    [MemberData(nameof(ProtocolErrors))]
    public async Task Model_resolution_errors_have_golden_bodies(string variant, string path, HttpStatusCode status, string message)
    {
        _ = variant;
        await AssertErrorAsync(path, $$"""{"inputs":[{{Input0}},{{Input1}}]}""", status, message);
    }

    public static TheoryData<string, string> RequestErrors() => new()
    {
        {
            """{"inputs":[{"name":"INPUT0","shape":[1,16],"datatype":"FP32","data":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]},@I1]}""",
            "inference input 'INPUT0' data-type is 'FP32', but model 'simple' expects 'INT32'"
        },
        {
            """{"inputs":[{"name":"INPUT0","shape":[1,15],"datatype":"INT32","data":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14]},@I1]}""",
            "unexpected shape for input 'INPUT0' for model 'simple'. Expected [-1,16], got [1,15]"
        },
        {
            """{"inputs":[@I1]}""",
            "expected 2 inputs but got 1 inputs for model 'simple'; missing input(s) 'INPUT0'"
        },
        {
            """{"inputs":[@I0,@I1,{"name":"INPUT2","shape":[1],"datatype":"INT32","data":[1]}]}""",
            "unexpected inference input 'INPUT2' for model 'simple'"
        },
        {
            """{"inputs":[@I0,@I1],"outputs":[{"name":"OUTPUT9"}]}""",
            "unexpected inference output 'OUTPUT9' for model 'simple'"
        },
        {
            """{"inputs":[@I0,@I1],"outputs":[{"name":"OUTPUT0"},{"name":"OUTPUT0"}]}""",
            "output 'OUTPUT0' already requested"
        },
        {
            """{"inputs":[{"name":"INPUT0","shape":[1,16],"datatype":"INT32","data":[0,1,2]},@I1]}""",
            "input 'INPUT0': 'data' holds fewer elements than its shape needs (16)"
        },
        {
            // The shape cannot fit the model, so the data is never decoded: the spec error comes, not the data's own.
            """{"inputs":[{"name":"INPUT0","shape":[9,16],"datatype":"INT32","data":"not numbers"},@I1]}""",
            "inference request batch-size must be <= 8 for 'simple', got 9"
        },
    };

    [Theory]
    [MemberData(nameof(RequestErrors))]
    public async Task Request_errors_have_golden_bodies(string body, string message) =>
        await AssertErrorAsync("v2/models/simple/infer", body.Replace("@I0", Input0, StringComparison.Ordinal).Replace("@I1", Input1, StringComparison.Ordinal), HttpStatusCode.BadRequest, message);

    [Fact]
    public async Task Binary_byte_size_mismatch_has_a_golden_body()
    {
        var header = """{"inputs":[{"name":"INPUT0","shape":[1,16],"datatype":"INT32","parameters":{"binary_data_size":60}},{"name":"INPUT1","shape":[1,16],"datatype":"INT32","parameters":{"binary_data_size":64}}]}""";

        using var response = await PostBinaryAsync("v2/models/simple/infer", header, new byte[124], Encoding.UTF8.GetByteCount(header).ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("""{"error":"unexpected total byte size 60 for input 'INPUT0', expecting 64"}""", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("99999999999")]
    [InlineData("1e3")]
    [InlineData("")]
    [InlineData(" 12")]
    [InlineData("0x10")]
    [InlineData("100000")]
    public async Task Malformed_binary_header_lengths_are_refused(string headerLength)
    {
        var header = """{"inputs":[{"name":"INPUT0","shape":[1,2],"datatype":"FP32","parameters":{"binary_data_size":8}}]}""";

        using var response = await PostBinaryAsync("v2/models/identity_fp32/infer", header, new byte[8], headerLength);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("{\"error\":", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_binary_header_length_given_twice_is_refused()
    {
        var header = """{"inputs":[{"name":"INPUT0","shape":[1,2],"datatype":"FP32","parameters":{"binary_data_size":8}}]}""";
        var length = Encoding.UTF8.GetByteCount(header).ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var content = new ByteArrayContent([.. Encoding.UTF8.GetBytes(header), .. new byte[8]]);
        using var message = new HttpRequestMessage(HttpMethod.Post, "v2/models/identity_fp32/infer") { Content = content };
        message.Headers.TryAddWithoutValidation("Inference-Header-Content-Length", [length, length]);

        using var response = await _http.SendAsync(message);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task A_bytes_element_claiming_four_gigabytes_is_refused()
    {
        var header = """{"inputs":[{"name":"TEXT","shape":[1],"datatype":"BYTES","parameters":{"binary_data_size":8}}]}""";

        using var response = await PostBinaryAsync("v2/models/string_upper/infer", header, [0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4], Encoding.UTF8.GetByteCount(header).ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("""{"error":"input 'TEXT': BYTES element 0 claims 4294967295 bytes but only 4 remain"}""", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(4)] // trailing bytes
    [InlineData(-4)] // too few
    public async Task Binary_data_must_match_the_declared_sizes_exactly(int extra)
    {
        var header = """{"inputs":[{"name":"INPUT0","shape":[1,2],"datatype":"FP32","parameters":{"binary_data_size":8}}]}""";

        using var response = await PostBinaryAsync("v2/models/identity_fp32/infer", header, new byte[8 + extra], Encoding.UTF8.GetByteCount(header).ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Theory]
    [InlineData("application/x-java-serialized-object")]
    [InlineData("application/python-pickle")]
    [InlineData("application/x-python-serialize")]
    [InlineData("text/yaml")]
    [InlineData("multipart/form-data; boundary=x")]
    public async Task Unsafe_content_types_are_refused_with_415(string contentType)
    {
        using var content = new ByteArrayContent("{}"u8.ToArray());
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);

        using var response = await _http.PostAsync("v2/models/simple/infer", content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task A_decompression_bomb_is_refused_while_streaming()
    {
        var bomb = RestInferenceTests.Gzip(new byte[65 * 1024 * 1024]);
        Assert.True(bomb.Length < 1024 * 1024);
        using var content = new ByteArrayContent(bomb);
        content.Headers.ContentType = new("application/json");
        content.Headers.ContentEncoding.Add("gzip");

        using var response = await _http.PostAsync("v2/models/simple/infer", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("larger than", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(65)]
    [InlineData(250_000)]
    public async Task Deep_json_is_refused(int depth)
    {
        var nested = new string('[', depth) + new string(']', depth);

        await AssertStatusAsync("v2/models/simple/infer", $$"""{"inputs":[{"name":"INPUT0","shape":[1],"datatype":"INT32","data":{{nested}}}]}""", HttpStatusCode.BadRequest);
        await AssertStatusAsync("v2/models/simple/infer", $$"""{"parameters":{"p":{{nested}}},"inputs":[]}""", HttpStatusCode.BadRequest);
        await AssertStatusAsync("v2/repository/index", $$"""{"ready":{{nested}}}""", HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("[16,1152921504606846978]", "FP32")]
    [InlineData("[2,-5]", "FP32")]
    [InlineData("[2147483648,1]", "BOOL")]
    [InlineData("[1,4611686018427387904]", "FP32")]
    public async Task Oversized_tensors_are_refused_before_allocation(string shape, string type)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await AssertStatusAsync("v2/models/identity_fp32/infer", $$"""{"inputs":[{"name":"INPUT0","shape":{{shape}},"datatype":"{{type}}","data":[1,2,3,4]}]}""", HttpStatusCode.BadRequest);
        Assert.True(clock.ElapsedMilliseconds < 1000);
    }

    [Fact]
    public async Task Ten_thousand_duplicate_outputs_are_refused()
    {
        var outputs = string.Join(",", Enumerable.Repeat("""{"name":"OUTPUT0"}""", 10_000));

        await AssertErrorAsync("v2/models/simple/infer", $$"""{"inputs":[{{Input0}},{{Input1}}],"outputs":[{{outputs}}]}""", HttpStatusCode.BadRequest,
            "the request asks for 10000 outputs but model 'simple' has 2");
    }

    [Theory]
    [InlineData("v2/models/..%2Fetc/infer")]
    [InlineData("v2/models/%2e%2e/infer")]
    [InlineData("v2/models/a%0Ab/infer")]
    public async Task Hostile_model_names_are_just_unknown_models(string path) =>
        await AssertStatusAsync(path, $$"""{"inputs":[{{Input0}}]}""", HttpStatusCode.NotFound);

    [Fact]
    public async Task Error_bodies_never_leak_paths_or_stack_traces()
    {
        using var response = await _http.PostAsync("v2/repository/models/corrupt/load", null);
        var body = await response.Content.ReadAsStringAsync();

        Assert.DoesNotContain(fixture.RepositoryRoot, body, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", body, StringComparison.Ordinal);
    }

    private async Task AssertErrorAsync(string path, string body, HttpStatusCode status, string message)
    {
        using var response = await _http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(new { error = message }, RelaxedJson), await response.Content.ReadAsStringAsync());
    }

    private async Task AssertStatusAsync(string path, string body, HttpStatusCode status)
    {
        using var response = await _http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(status, response.StatusCode);
    }

    private Task<HttpResponseMessage> PostBinaryAsync(string path, string header, byte[] binary, string headerLength)
    {
        var content = new ByteArrayContent([.. Encoding.UTF8.GetBytes(header), .. binary]);
        content.Headers.ContentType = new("application/octet-stream");
        var message = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        message.Headers.TryAddWithoutValidation("Inference-Header-Content-Length", headerLength);
        return _http.SendAsync(message);
    }
}
