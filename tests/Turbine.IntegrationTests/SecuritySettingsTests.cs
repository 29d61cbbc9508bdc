using System.Net;
using System.Net.Http.Headers;
using System.Security.Authentication;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Turbine.Client;
using Turbine.Onnx.Tools;
using Turbine.Protocols.Grpc;
using Turbine.Server.Hosting;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>API keys per model (REST and gRPC), TLS and mutual TLS, on a real server.</summary>
public sealed class SecuritySettingsTests : IAsyncLifetime
{
    private const string AllModelsKey = "all-models-key-0123456789";
    private const string SimpleOnlyKey = "simple-only-key-0123456789";
    private readonly FolderServer _server = new();

    public Task InitializeAsync()
    {
        _server.Folder.Add("simple", SampleModels.AddSub(DataType.Int32, 4)).Add("other", SampleModels.AddSub(DataType.Int32, 4));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public static TheoryData<string, string?, HttpStatusCode> KeyCases() => new()
    {
        { "v2/models/simple/infer", null, HttpStatusCode.Unauthorized },
        { "v2/models/simple/infer", "", HttpStatusCode.Unauthorized },
        { "v2/models/simple/infer", "wrong-key-0123456789", HttpStatusCode.Unauthorized },
        { "v2/models/simple/infer", SimpleOnlyKey + "x", HttpStatusCode.Unauthorized },
        { "v2/models/other/infer", SimpleOnlyKey, HttpStatusCode.Forbidden },
        { "v2/models/other/versions/1/infer", SimpleOnlyKey, HttpStatusCode.Forbidden },
        { "v2/models/other", SimpleOnlyKey, HttpStatusCode.Forbidden },
        { "v2/models/other/config", SimpleOnlyKey, HttpStatusCode.Forbidden },
        { "v2/models/stats", SimpleOnlyKey, HttpStatusCode.Forbidden },
        { "v2/models/simple/infer", SimpleOnlyKey, HttpStatusCode.OK },
        { "v2/models/other/infer", AllModelsKey, HttpStatusCode.OK },
        { "v2/models/stats", AllModelsKey, HttpStatusCode.OK },
        { "v2/models/simple/ready", SimpleOnlyKey, HttpStatusCode.OK },
    };

    [Theory]
    [MemberData(nameof(KeyCases))]
    public async Task Model_endpoints_need_a_key_that_covers_the_model(string path, string? key, HttpStatusCode expected)
    {
        await StartWithKeysAsync();
        using var request = new HttpRequestMessage(path.EndsWith("/infer", StringComparison.Ordinal) ? HttpMethod.Post : HttpMethod.Get, path);
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        }

        if (request.Method == HttpMethod.Post)
        {
            request.Content = AddSubRequests.Content();
        }

        using var response = await _server.Http.SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
        using var health = await _server.Http.GetAsync("v2/health/live");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode); // health stays open
    }

    [Theory]
    [InlineData(null, HttpStatusCode.Unauthorized, Grpc.Core.StatusCode.Unauthenticated)]
    [InlineData(SimpleOnlyKey, HttpStatusCode.Forbidden, Grpc.Core.StatusCode.PermissionDenied)] // the index names every model
    [InlineData(AllModelsKey, HttpStatusCode.OK, Grpc.Core.StatusCode.OK)]
    public async Task The_repository_index_needs_a_key_for_every_model_and_no_management_token(string? key, HttpStatusCode rest, Grpc.Core.StatusCode grpc)
    {
        await StartWithKeysAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v2/repository/index");
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        }

        using var response = await _server.Http.SendAsync(request);
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_server.Server.GrpcPort}");
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        var status = Grpc.Core.StatusCode.OK;
        try
        {
            await client.RepositoryIndexAsync(new RepositoryIndexRequest(), key is null ? [] : Bearer(key));
        }
        catch (RpcException e)
        {
            status = e.StatusCode;
        }

        Assert.Equal(rest, response.StatusCode);
        Assert.Equal(grpc, status);
    }

    [Fact]
    public async Task A_key_in_the_query_string_is_not_a_key()
    {
        await StartWithKeysAsync();
        using var response = await _server.Http.PostAsync($"v2/models/simple/infer?api_key={SimpleOnlyKey}&authorization=Bearer%20{SimpleOnlyKey}",
            AddSubRequests.Content());
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task Grpc_calls_need_the_key_in_their_metadata()
    {
        await StartWithKeysAsync();
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_server.Server.GrpcPort}");
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        var request = TurbineGrpcClient.ToMessage(AddSubRequests.Create("simple"));

        var missing = await Assert.ThrowsAsync<RpcException>(async () => await client.ModelInferAsync(request));
        Assert.Equal(Grpc.Core.StatusCode.Unauthenticated, missing.StatusCode);
        var other = await Assert.ThrowsAsync<RpcException>(async () => await client.ModelMetadataAsync(new ModelMetadataRequest { Name = "other" }, Bearer(SimpleOnlyKey)));
        Assert.Equal(Grpc.Core.StatusCode.PermissionDenied, other.StatusCode);
        var response = await client.ModelInferAsync(request, Bearer(SimpleOnlyKey));
        Assert.Equal("simple", response.ModelName);
    }

    [Fact]
    public async Task Tls_serves_rest_and_grpc_and_refuses_plain_connections()
    {
        using var certificates = new TestCertificates();
        await StartWithTlsAsync(certificates, mutual: false);

        using var https = new HttpClient(certificates.Handler()) { BaseAddress = new Uri($"https://127.0.0.1:{_server.Server.HttpPort}/") };
        Assert.Equal("1", await InferVersionAsync(new TurbineHttpClient(https)));
        using var plain = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_server.Server.HttpPort}/") };
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => plain.GetAsync("v2/health/live"));

        using var channel = GrpcChannel.ForAddress($"https://127.0.0.1:{_server.Server.GrpcPort}", new GrpcChannelOptions { HttpHandler = certificates.Handler() });
        var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        Assert.True((await grpc.ServerLiveAsync(new ServerLiveRequest())).Live);
    }

    [Fact]
    public async Task Mutual_tls_admits_only_clients_with_a_certificate_from_the_configured_authority()
    {
        using var certificates = new TestCertificates();
        await StartWithTlsAsync(certificates, mutual: true);
        var address = new Uri($"https://127.0.0.1:{_server.Server.HttpPort}/");

        using (var trusted = new HttpClient(certificates.Handler(certificates.Client)) { BaseAddress = address })
        {
            Assert.Equal("1", await InferVersionAsync(new TurbineHttpClient(trusted)));
        }

        foreach (var certificate in new[] { null, certificates.Rogue })
        {
            using var refused = new HttpClient(certificates.Handler(certificate)) { BaseAddress = address };
            var error = await Assert.ThrowsAnyAsync<Exception>(() => refused.GetAsync("v2/health/live"));
            Assert.True(error is HttpRequestException or AuthenticationException or IOException, error.ToString());
        }
    }

    [Fact]
    public async Task Keys_can_come_from_files_and_short_keys_are_refused_at_start()
    {
        var file = Path.Combine(_server.Folder.Root, "..", Guid.NewGuid().ToString("N") + ".key");
        await File.WriteAllTextAsync(file, SimpleOnlyKey + "\n");
        try
        {
            await _server.StartAsync(options => options.ApiKeys = [new ApiKeyOptions { KeyFile = file }]);
            using var http = new HttpClient { BaseAddress = _server.Http.BaseAddress };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SimpleOnlyKey);
            Assert.Equal("1", await InferVersionAsync(new TurbineHttpClient(http)));
        }
        finally
        {
            File.Delete(file);
        }

        await Assert.ThrowsAnyAsync<Exception>(() => ServerFixture.StartAsync(_server.Folder.Root, options => options.ApiKeys = [new ApiKeyOptions { Key = "short" }]));
    }

    private Task StartWithKeysAsync() => _server.StartAsync(options => options.ApiKeys =
    [
        new ApiKeyOptions { Key = AllModelsKey },
        new ApiKeyOptions { Key = SimpleOnlyKey, Models = ["simple"] },
    ]);

    private Task StartWithTlsAsync(TestCertificates certificates, bool mutual) => _server.StartAsync(options =>
    {
        options.Tls.CertificateFile = certificates.ServerCertificateFile;
        options.Tls.KeyFile = certificates.ServerKeyFile;
        options.Tls.ClientCertificateAuthorityFile = mutual ? certificates.AuthorityFile : null;
    });

    private static Metadata Bearer(string key) => new() { { "authorization", "Bearer " + key } };

    private static async Task<string> InferVersionAsync(TurbineHttpClient client)
    {
        using var request = AddSubRequests.Create("simple");
        using var response = await client.InferAsync(request);
        return response.ModelVersion;
    }
}
