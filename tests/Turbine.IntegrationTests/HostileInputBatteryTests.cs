using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Turbine.Onnx.Tools;

namespace Turbine.IntegrationTests;

/// <summary>Runs alone: it measures the process's memory, which parallel tests would disturb.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "serial";
}

/// <summary>
/// SECURITY.md's common checks over families of hostile requests on every endpoint that takes a name (A2, A13, A14,
/// A15): each gets a 4xx with an <c>{"error"}</c> body, and afterwards the server is live, the canary file outside
/// the repository is untouched, nothing was written outside the repository, no log record carries a raw control
/// character, the metric series are the same, and the managed heap is back near its baseline.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class HostileInputBatteryTests : IAsyncLifetime
{
    private readonly FolderServer _server = new();
    private readonly CapturingLoggerProvider _logs = new();
    private string _canary = null!;

    /// <summary>
    /// URL path segments. A bare "." or ".." (encoded or not) is not here: the HTTP layer removes dot segments before
    /// routing (RFC 3986), so such a path never names a model; ModelNamesTests covers them as names.
    /// </summary>
    public static IEnumerable<string> HostileNames() =>
    [
        "..%2F..%2Fetc", "..a%2F..", "..%2Fetc", "a%2F..%2Fb", "%2Fetc%2Fpasswd", "..%5C..%5Cx", "C:%5Cx", "%252e%252e%252f", "CON", "NUL",
        new string('a', 256), "%20", "%20simple", "simple%00", "simple%0Aforged%20record", "%1B%5B31mred", "simple;rm%20-rf", "$(id)", "%E2%80%AEevil",
    ];

    public async Task InitializeAsync()
    {
        _server.Folder.Add("simple", SampleModels.AddSub(DataType.Int32, 4));
        _canary = Path.Combine(Path.GetDirectoryName(_server.Folder.Root)!, "canary-" + Path.GetFileName(_server.Folder.Root));
        await File.WriteAllTextAsync(_canary, "canary");
        await _server.StartAsync(services: s => s.AddSingleton<ILoggerProvider>(_logs).AddLogging(b => b.AddFilter<CapturingLoggerProvider>("Turbine", LogLevel.Trace)));
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        File.Delete(_canary);
    }

    [Fact]
    public async Task Hostile_names_on_every_endpoint_get_a_clean_4xx_and_leave_no_trace()
    {
        var canaryWritten = File.GetLastWriteTimeUtc(_canary);
        var outside = OutsideTheRepository();
        var series = await SeriesCountAsync();
        await RunFamilyAsync(); // warms every code path once, so the baseline below includes their one-time allocations
        var baseline = ManagedHeap();

        for (var round = 0; round < 20; round++)
        {
            await RunFamilyAsync();
        }

        using var live = await _server.Http.GetAsync("v2/health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal("canary", await File.ReadAllTextAsync(_canary));
        Assert.Equal(canaryWritten, File.GetLastWriteTimeUtc(_canary));
        Assert.Equal(outside, OutsideTheRepository());
        Assert.Equal(["simple"], Directory.GetDirectories(_server.Folder.Root).Select(Path.GetFileName).Where(n => n != ".turbine"));
        Assert.Contains(_logs.Messages, m => m.Contains("'simple' is ready", StringComparison.Ordinal)); // the capture works
        Assert.DoesNotContain(_logs.Messages, m => m.Any(c => char.IsControl(c) && c is not '\r' and not '\n') || m.Contains("forged record\n", StringComparison.Ordinal));
        Assert.Equal(series, await SeriesCountAsync());
        Assert.InRange(ManagedHeap() - baseline, long.MinValue, 32L * 1024 * 1024);
    }

    /// <summary>Paths of <c>file:</c> load parameters (SECURITY.md A2/A3): none may leave the staged model folder.</summary>
    public static TheoryData<string> HostileUploadPaths() =>
    [
        "../outside.onnx", "1/../../outside.onnx", "/etc/passwd", "1/a/b.onnx", "0/model.onnx", "-1/model.onnx", "1//model.onnx",
        "1/..", "..", "", "1/", "config.json", "config.pbtxt", "1/CON", "1/model.onnx\\..\\..\\x", "C:\\x", "1/%2e%2e", "1/model\u0000.onnx",
    ];

    [Theory]
    [MemberData(nameof(HostileUploadPaths))]
    public async Task Hostile_model_file_uploads_get_a_clean_400_and_write_nothing(string path)
    {
        var outside = OutsideTheRepository();
        var config = """{ "max_batch_size": 8, "input": [ { "name": "INPUT0", "data_type": "TYPE_INT32", "dims": [ 4 ] } ] }""";
        var body = System.Text.Json.JsonSerializer.Serialize(new { parameters = new Dictionary<string, string>
        {
            ["config"] = config,
            ["file:1/model.onnx"] = Convert.ToBase64String(SampleModels.AddSub(DataType.Int32, 4)),
            ["file:" + path] = Convert.ToBase64String("x"u8.ToArray()),
        } });

        using var response = await _server.Http.PostAsync("v2/repository/models/uploaded/load", new StringContent(body, Encoding.UTF8, "application/json"));

        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("{\"error\":", text, StringComparison.Ordinal);
        Assert.Contains("must name a file as '<version>/<file name>' or '<file name>'", text, StringComparison.Ordinal); // refused for its path, not for the mode
        Assert.DoesNotContain(_server.Folder.Root, text, StringComparison.Ordinal);
        Assert.Equal(outside, OutsideTheRepository());
        Assert.Equal(["simple"], Directory.GetDirectories(_server.Folder.Root).Select(Path.GetFileName).Where(n => n != ".turbine"));
    }

    [Theory]
    [InlineData("\"file:1/model.onnx\": \"not base64!\"")]
    [InlineData("\"file:1/model.onnx\": 12")]
    [InlineData("\"file:1/model.onnx\": {\"bytes\": \"AAAA\"}")]
    public async Task Upload_contents_that_are_not_base64_strings_are_refused(string parameter)
    {
        var body = "{\"parameters\": {\"config\": \"{}\", " + parameter + "}}";

        using var response = await _server.Http.PostAsync("v2/repository/models/uploaded/load", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("base64", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(["simple"], Directory.GetDirectories(_server.Folder.Root).Select(Path.GetFileName).Where(n => n != ".turbine"));
    }

    [Fact]
    public async Task Random_model_names_do_not_grow_the_metric_series()
    {
        var before = await SeriesCountAsync();
        await Parallel.ForEachAsync(Enumerable.Range(0, 2000), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (_, token) =>
        {
            using var body = new StringContent("""{"inputs":[{"name":"INPUT0","shape":[1],"datatype":"INT32","data":[1]}]}""", Encoding.UTF8, "application/json");
            using var response = await _server.Http.PostAsync($"v2/models/{Guid.NewGuid():N}/infer", body, token);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        });

        Assert.Equal(before, await SeriesCountAsync());
    }

    private async Task RunFamilyAsync()
    {
        foreach (var name in HostileNames())
        {
            foreach (var (method, path, body) in Endpoints(name))
            {
                if (path.Contains("/labels/", StringComparison.Ordinal) && Core.Lifecycle.VersionRouting.IsValidLabel(Uri.UnescapeDataString(name)))
                {
                    continue; // a label is a key, not a path: "CON" is a fine label on every system
                }

                using var request = new HttpRequestMessage(method, path);
                if (body is not null)
                {
                    request.Content = new StringContent(body, Encoding.UTF8, "application/json");
                }

                using var response = await _server.Http.SendAsync(request);
                var status = (int)response.StatusCode;
                var text = await response.Content.ReadAsStringAsync();
                Assert.True(status is >= 400 and < 500, $"{method} {path}: {status} {text}");
                if (text.Length > 0)
                {
                    Assert.StartsWith("{\"error\":", text, StringComparison.Ordinal);
                    Assert.DoesNotContain(_server.Folder.Root, text, StringComparison.Ordinal);
                    Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
                }
            }
        }
    }

    private static IEnumerable<(HttpMethod Method, string Path, string? Body)> Endpoints(string name) =>
    [
        (HttpMethod.Post, $"v2/models/{name}/infer", """{"inputs":[{"name":"INPUT0","shape":[1,4],"datatype":"INT32","data":[1,2,3,4]}]}"""),
        (HttpMethod.Get, $"v2/models/{name}", null),
        (HttpMethod.Get, $"v2/models/{name}/config", null),
        (HttpMethod.Get, $"v2/models/simple/versions/{name}", null),
        (HttpMethod.Post, $"v2/repository/models/{name}/load", null),
        (HttpMethod.Post, $"v2/repository/models/{name}/unload", null),
        (HttpMethod.Get, $"v2/repository/models/{name}/versions", null),
        (HttpMethod.Post, $"v2/repository/models/{name}/rollback", null),
        (HttpMethod.Put, $"v2/repository/models/simple/labels/{name}", """{"version": 1}"""),
        (HttpMethod.Put, $"v2/repository/models/{name}/default", """{"version": 1}"""),
        (HttpMethod.Put, $"v2/routes/{name}", """{"variants":[{"model":"simple"}]}"""),
        (HttpMethod.Get, $"v2/routes/{name}/canary", null),
        (HttpMethod.Post, $"v2/routes/{name}/canary/pause", null),
        (HttpMethod.Post, $"v2/models/{name}/feedback", """{"request_id":"x","converted":true}"""),
        (HttpMethod.Delete, $"v2/routes/{name}", null),
        (HttpMethod.Put, $"v2/pipelines/{name}", """{"steps":[{"name":"s","model":"simple","input_map":{"INPUT0":"a","INPUT1":"b"},"output_map":{"OUTPUT0":"c"}}]}"""),
        (HttpMethod.Get, $"v2/pipelines/{name}/stats", null),
        (HttpMethod.Delete, $"v2/pipelines/{name}", null),
    ];

    private async Task<int> SeriesCountAsync()
    {
        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_server.Server.MetricsPort}/") };
        var text = await metrics.GetStringAsync("metrics");
        return text.Split('\n').Count(line => line.Length > 0 && line[0] != '#' && !line.StartsWith("process_", StringComparison.Ordinal) && !line.StartsWith("dotnet_", StringComparison.Ordinal));
    }

    private static long ManagedHeap()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    /// <summary>
    /// What lies beside the repository, other tests' own repositories left out: they come and go in parallel as
    /// folders named by a GUID, and a file a hostile path wrote there would not be one.
    /// </summary>
    private List<string> OutsideTheRepository() =>
        [.. Directory.GetFileSystemEntries(Path.GetDirectoryName(_server.Folder.Root)!)
            .Where(entry => !(Directory.Exists(entry) && Guid.TryParseExact(Path.GetFileName(entry), "N", out _)))
            .Order()];
}
