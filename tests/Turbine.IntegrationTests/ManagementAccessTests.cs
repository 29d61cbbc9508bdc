using System.Net;
using System.Net.Http.Headers;
using Grpc.Core;
using Turbine.Client;
using Turbine.Onnx.Tools;
using Turbine.Server.Hosting;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>SECURITY.md A1: the repository API behind a bearer token, or off.</summary>
public sealed class ManagementAccessTests : IAsyncLifetime
{
    private const string Token = "s3cret-token";
    private readonly TestRepository _repository = new();
    private TurbineServer _server = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _repository.Add("simple", SampleModels.AddSub());
        _server = await ServerFixture.StartAsync(_repository.Root, options => options.Management.Token = Token);
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_server.HttpPort}/") };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        _repository.Dispose();
    }

    [Theory]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    [InlineData("", HttpStatusCode.Unauthorized)]
    [InlineData("Basic czNjcmV0LXRva2Vu", HttpStatusCode.Unauthorized)]
    [InlineData("Bearer wrong", HttpStatusCode.Forbidden)]
    [InlineData("Bearer s3cret-token-and-more", HttpStatusCode.Forbidden)]
    [InlineData("Bearer S3CRET-TOKEN", HttpStatusCode.Forbidden)]
    [InlineData("Bearer " + Token, HttpStatusCode.OK)]
    public async Task Repository_calls_need_the_bearer_token(string? authorization, HttpStatusCode expected)
    {
        foreach (var path in new[] { "v2/repository/models/simple/load", "v2/repository/models/simple/unload" })
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, path);
            if (authorization is not null)
            {
                message.Headers.TryAddWithoutValidation("Authorization", authorization);
            }

            using var response = await _http.SendAsync(message);
            Assert.Equal(expected, response.StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync("v2/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _http.PostAsync("v2/repository/index", null)).StatusCode); // read-only, as metadata
    }

    [Theory]
    [InlineData("s3cret-token", true)]
    [InlineData("s3cret-toke", false)]
    [InlineData("s3cret-tokem", false)]
    [InlineData("s3cret-token!", false)]
    [InlineData("", false)]
    public void Tokens_are_compared_as_fixed_size_digests_whatever_their_length(string presented, bool matches)
    {
        // Comparing raw bytes answers a presented token of another length at once, which tells its length;
        // comparing digests does the same work for every token.
        var digest = Turbine.Server.Http.SecretDigest.Of(Token);

        Assert.Equal(matches, digest.Matches(presented));
    }

    [Fact]
    public async Task The_token_can_come_from_a_file_as_a_mounted_secret_does()
    {
        var file = Path.Combine(_repository.Root, "token");
        await File.WriteAllTextAsync(file, "from-a-mounted-secret\n");
        await using var server = await ServerFixture.StartAsync(_repository.Root, options => options.Management.TokenFile = file);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.HttpPort}/") };

        using var refused = new HttpRequestMessage(HttpMethod.Post, "v2/repository/models/simple/load");
        using var accepted = new HttpRequestMessage(HttpMethod.Post, "v2/repository/models/simple/load");
        refused.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "from-a-mounted-secret\n".TrimEnd() + "x");
        accepted.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "from-a-mounted-secret");

        Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(refused)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(accepted)).StatusCode);
    }

    [Fact]
    public async Task A_token_in_the_query_string_is_not_accepted()
    {
        using var response = await _http.PostAsync($"v2/repository/models/simple/load?token={Token}&access_token={Token}", null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Grpc_repository_calls_need_the_token_too()
    {
        using var anonymous = new TurbineGrpcClient(new Uri($"http://127.0.0.1:{_server.GrpcPort}"));
        using var authorized = new TurbineGrpcClient(new Uri($"http://127.0.0.1:{_server.GrpcPort}"), Token);

        var error = await Assert.ThrowsAsync<TurbineClientException>(() => anonymous.UnloadModelAsync("simple"));
        Assert.Equal(StatusCode.Unauthenticated, error.Code);
        await authorized.UnloadModelAsync("simple");
        await authorized.LoadModelAsync("simple");
        Assert.True(await anonymous.IsModelReadyAsync("simple"));
    }

    [Fact]
    public async Task Inference_needs_no_token()
    {
        using var client = new TurbineHttpClient(_http);
        using var request = RestEndpointTests.SimpleRequest();

        using var response = await client.InferAsync(request);

        Assert.Equal(2, response.Outputs.Count);
    }

    [Fact]
    public async Task A_disabled_repository_api_refuses_every_call()
    {
        await using var server = await ServerFixture.StartAsync(_repository.Root, options => options.Management.Enabled = false);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.HttpPort}/") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);

        using var response = await http.PostAsync("v2/repository/models/simple/unload", null);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("""{"error":"the repository API is disabled on this server"}""", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("v2/repository/index", null)).StatusCode); // the index stays, read-only
        using var grpc = new TurbineGrpcClient(new Uri($"http://127.0.0.1:{server.GrpcPort}"));
        Assert.Contains(await grpc.GetRepositoryIndexAsync(), m => m.Name == "simple" && m.State == "READY");
    }
}
