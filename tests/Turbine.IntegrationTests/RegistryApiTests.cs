using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Turbine.Onnx.Tools;
using Turbine.Registry;
using Turbine.Server.Registry;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>
/// The registry's REST API on a real server: reading models, versions and the audit trail, moving aliases and tags,
/// clear errors for what does not exist or cannot be read, and the management rules in front of it (SECURITY.md A1).
/// </summary>
public sealed class RegistryApiTests : IAsyncDisposable
{
    private const string Token = "a-registry-management-token-of-some-length";
    private readonly FolderServer _server = new();
    private readonly TestRepository _sources = new();

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _sources.Dispose();
    }

    [Fact]
    public async Task Versions_aliases_tags_and_the_history_are_read_and_moved_over_rest()
    {
        var registry = await StartAsync(token: null);
        await PushAsync(registry);
        await PushAsync(registry);

        using var moved = await SendAsync(HttpMethod.Put, "v2/registry/models/simple/aliases/champion", """{"version": 2, "reason": "canary passed", "actor": "bob"}""");
        using var tagged = await SendAsync(HttpMethod.Put, "v2/registry/models/simple/versions/2/tags/stage", """{"value": "prod"}""");
        var models = await GetJsonAsync("v2/registry/models");
        var versions = await GetJsonAsync("v2/registry/models/simple/versions");
        var champion = await GetJsonAsync("v2/registry/models/simple/versions/champion");
        var history = await GetJsonAsync("v2/registry/models/simple/history");

        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        Assert.Equal(HttpStatusCode.OK, tagged.StatusCode);
        Assert.Equal("simple", models.GetProperty("models")[0].GetProperty("name").GetString());
        Assert.Equal(2, versions.GetProperty("versions").GetArrayLength());
        Assert.Equal(2, versions.GetProperty("aliases").GetProperty("champion").GetInt64());
        Assert.Equal(2, champion.GetProperty("version").GetInt64());
        Assert.Equal("prod", champion.GetProperty("tags").GetProperty("stage").GetString());
        Assert.Equal(["config.json", "files/model.onnx"], champion.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("path").GetString()));
        var move = history.GetProperty("entries").EnumerateArray().Single(e => e.GetProperty("kind").GetString() == AuditKinds.AliasMoved);
        Assert.Equal(("champion", 2, "api:bob", "canary passed"), (move.GetProperty("subject").GetString(), move.GetProperty("version").GetInt64(), move.GetProperty("actor").GetString(), move.GetProperty("detail").GetString()));
    }

    [Theory]
    [InlineData("GET", "v2/registry/models/nothing/versions", null, HttpStatusCode.NotFound, "no model 'nothing'")]
    [InlineData("GET", "v2/registry/models/simple/versions/9", null, HttpStatusCode.NotFound, "has no version 9")]
    [InlineData("GET", "v2/registry/models/simple/versions/stable", null, HttpStatusCode.NotFound, "has no alias 'stable'")]
    [InlineData("PUT", "v2/registry/models/simple/aliases/champion", "{\"version\": 9}", HttpStatusCode.NotFound, "has no version 9")]
    [InlineData("PUT", "v2/registry/models/simple/aliases/champion", "{\"version\": \"one\"}", HttpStatusCode.BadRequest, "positive integer 'version'")]
    [InlineData("PUT", "v2/registry/models/simple/aliases/champion", "[1]", HttpStatusCode.BadRequest, "must be a JSON object")]
    [InlineData("PUT", "v2/registry/models/simple/aliases/champion", "{\"version\": ", HttpStatusCode.BadRequest, "is not valid JSON")]
    [InlineData("PUT", "v2/registry/models/simple/aliases/12", "{\"version\": 1}", HttpStatusCode.BadRequest, "would read as a version number")]
    [InlineData("DELETE", "v2/registry/models/simple/aliases/stable", null, HttpStatusCode.NotFound, "has no alias 'stable'")]
    [InlineData("GET", "v2/registry/models/simple/history?at=yesterday", null, HttpStatusCode.BadRequest, "ISO 8601")]
    public async Task Bad_requests_get_clear_errors_and_change_nothing(string method, string path, string? body, HttpStatusCode status, string message)
    {
        var registry = await StartAsync(token: null);
        await PushAsync(registry);

        using var response = await SendAsync(new HttpMethod(method), path, body);

        Assert.Equal(status, response.StatusCode);
        Assert.Contains(message, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(await registry.Store.ListAliasesAsync("simple", default));
    }

    [Fact]
    public async Task The_registry_api_follows_the_management_rules()
    {
        var registry = await StartAsync(Token);
        await PushAsync(registry);

        using var anonymous = await SendAsync(HttpMethod.Put, "v2/registry/models/simple/aliases/champion", """{"version": 1}""", token: null);
        using var wrong = await SendAsync(HttpMethod.Put, "v2/registry/models/simple/aliases/champion", """{"version": 1}""", token: "not-the-token-at-all-but-long-enough");
        using var inQuery = await SendAsync(HttpMethod.Get, $"v2/registry/models?token={Token}", null, token: null);
        using var allowed = await SendAsync(HttpMethod.Put, "v2/registry/models/simple/aliases/champion", """{"version": 1}""", token: Token);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, inQuery.StatusCode);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal("api", Assert.Single(await registry.Store.ListAliasesAsync("simple", default)).UpdatedBy);
    }

    private async Task<ModelRegistry> StartAsync(string? token)
    {
        _sources.Add("simple", SampleModels.AddSub(DataType.Int32, 4), """{ "max_batch_size": 8 }""");
        var folder = Path.Combine(_sources.Root, "registry");
        var registry = await RegistryDatabases.OpenAsync(folder, null, null, TimeProvider.System, default);
        _server.Configuration.Add("--Turbine:Registry:Folder=" + folder);
        if (token is not null)
        {
            _server.Configuration.Add("--Turbine:Management:Token=" + token);
        }

        await _server.StartAsync();
        return registry;
    }

    private Task<ModelVersion> PushAsync(ModelRegistry registry) =>
        registry.PushAsync(new PushRequest("simple", Path.Combine(_sources.Root, "simple", "1"), Path.Combine(_sources.Root, "simple", "config.json"), "ci"), default);

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? body, string? token = null) => _server.SendAsync(method, path, body, token);

    private Task<JsonElement> GetJsonAsync(string path) => _server.GetJsonAsync(path);
}
