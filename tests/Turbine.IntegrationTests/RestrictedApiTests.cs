using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using Turbine.Onnx.Tools;
using Turbine.Protocols.Grpc;
using Turbine.Client;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>Triton's restricted APIs: groups of endpoints that answer only requests carrying a header, over REST and gRPC.</summary>
public sealed class RestrictedApiTests : IAsyncLifetime
{
    private readonly FolderServer _server = new();

    public async Task InitializeAsync()
    {
        _server.Folder.Add("simple", SampleModels.AddSub(DataType.Int32, 4));
        await _server.StartAsync(options => options.RestrictedApi.AddRange(["model-repository,statistics:admin-key=admin-s3cret", "inference:infer-key=infer-s3cret"]));
    }

    public Task DisposeAsync() => _server.DisposeAsync().AsTask();

    [Theory]
    [InlineData("POST", "v2/repository/index", "admin-key", "admin-s3cret")]
    [InlineData("GET", "v2/models/stats", "admin-key", "admin-s3cret")]
    [InlineData("GET", "v2/models/simple/versions/1/stats", "admin-key", "admin-s3cret")]
    [InlineData("POST", "v2/models/simple/infer", "infer-key", "infer-s3cret")]
    public async Task A_restricted_group_answers_only_with_its_header(string method, string path, string header, string value)
    {
        using var without = await SendAsync(method, path, null, null);
        using var wrong = await SendAsync(method, path, header, value + "x");
        using var other = await SendAsync(method, path, header == "admin-key" ? "infer-key" : "admin-key", header == "admin-key" ? "infer-s3cret" : "admin-s3cret");
        using var with = await SendAsync(method, path, header, value);

        Assert.Equal(HttpStatusCode.Forbidden, without.StatusCode);
        Assert.Equal($$"""{"error":"This API is restricted, expecting header '{{header}}'"}""", await without.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
        Assert.Equal(HttpStatusCode.OK, with.StatusCode);
    }

    [Theory]
    [InlineData("GET", "v2/health/ready")]
    [InlineData("GET", "v2")]
    [InlineData("GET", "v2/models/simple")]
    [InlineData("GET", "v2/models/simple/config")]
    public async Task Groups_nobody_restricted_stay_open(string method, string path)
    {
        using var response = await SendAsync(method, path, null, null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Grpc_calls_need_the_header_as_metadata()
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_server.Server.GrpcPort}");
        var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(channel);

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await grpc.RepositoryIndexAsync(new RepositoryIndexRequest()));
        var index = await grpc.RepositoryIndexAsync(new RepositoryIndexRequest(), new Metadata { { "admin-key", "admin-s3cret" } });
        var inferRefused = await Assert.ThrowsAsync<RpcException>(async () => await grpc.ModelInferAsync(TurbineGrpcClient.ToMessage(AddSubRequests.Create("simple"))));
        var live = await grpc.ServerLiveAsync(new ServerLiveRequest());

        Assert.Equal(global::Grpc.Core.StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Equal("This API is restricted, expecting header 'admin-key'", refused.Status.Detail);
        Assert.Contains(index.Models, m => m.Name == "simple");
        Assert.Equal(global::Grpc.Core.StatusCode.PermissionDenied, inferRefused.StatusCode);
        Assert.True(live.Live);
    }

    [Theory]
    [InlineData("repository:admin-key=x", "'repository', which is not one of")]
    [InlineData("statistics:admin key=x", "must be letters, digits, '-' or '_'")]
    [InlineData("statistics=x", "must read '<api>[,<api>...]:<header>=<value>'")]
    public async Task A_restriction_that_does_not_parse_stops_the_start(string restriction, string expected)
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(
            () => ServerFixture.StartAsync(_server.Folder.Root, options => options.RestrictedApi.Add(restriction)));

        Assert.Contains(error.Failures, f => f.Contains(expected, StringComparison.Ordinal));
    }

    private async Task<HttpResponseMessage> SendAsync(string method, string path, string? header, string? value)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
        {
            request.Content = path.EndsWith("infer", StringComparison.Ordinal) ? AddSubRequests.Content() : null;
        }

        if (header is not null)
        {
            request.Headers.Add(header, value);
        }

        return await _server.Http.SendAsync(request);
    }
}
