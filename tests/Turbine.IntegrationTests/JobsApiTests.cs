using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>
/// Batch jobs over REST on a real server: submitted, run by the server's workers on the background lane, followed to
/// the end, their output listed and downloaded; clear errors for bad definitions and paths outside the job folder
/// (SECURITY.md A2); and the management rules in front of it all (A1).
/// </summary>
public sealed class JobsApiTests : IAsyncDisposable
{
    private const string Token = "a-jobs-management-token-of-some-length";
    private readonly FolderServer _server = new();
    private readonly TestRepository _data = new();

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _data.Dispose();
    }

    [Fact]
    public async Task A_submitted_job_runs_to_the_end_and_its_output_is_listed_and_downloaded()
    {
        await StartAsync(token: null);
        WriteInput("in.csv", 1000);

        using var submitted = await SendAsync(HttpMethod.Post, "v2/jobs", """
            {"id": "nightly", "model": "mlp", "input": "data/in.csv", "output": "out/nightly",
             "inputs": {"features": ["a", "b", "c", "d"]}, "keys": ["id"], "options": {"partition_rows": 300}}
            """);
        Assert.Equal(HttpStatusCode.OK, submitted.StatusCode);
        Assert.Equal("queued", JsonDocument.Parse(await submitted.Content.ReadAsStringAsync()).RootElement.GetProperty("state").GetString());

        var job = await WaitForAsync("nightly", "succeeded");
        var progress = job.GetProperty("progress");
        Assert.Equal((4, 4, 1000L, 1000L, 0L), (progress.GetProperty("partitions").GetInt32(), progress.GetProperty("partitions_done").GetInt32(), progress.GetProperty("rows").GetInt64(), progress.GetProperty("rows_done").GetInt64(), progress.GetProperty("errors").GetInt64()));
        Assert.Equal(100, progress.GetProperty("percent").GetDouble());
        Assert.True(progress.GetProperty("rows_per_second").GetDouble() > 0);

        var results = await GetJsonAsync("v2/jobs/nightly/results");
        Assert.Equal(["_SUMMARY.json", "part-00000.csv", "part-00001.csv", "part-00002.csv", "part-00003.csv"], results.GetProperty("files").EnumerateArray().Select(f => f.GetString()));
        using var part = await SendAsync(HttpMethod.Get, "v2/jobs/nightly/results/part-00003.csv", null);
        Assert.Equal("text/csv", part.Content.Headers.ContentType?.MediaType);
        var lines = (await part.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("id,probabilities,label", lines[0]);
        Assert.Equal(Enumerable.Range(900, 100), lines.Skip(1).Select(l => int.Parse(l.Split(',')[0], CultureInfo.InvariantCulture)));
        var list = await GetJsonAsync("v2/jobs");
        Assert.Equal("nightly", list.GetProperty("jobs")[0].GetProperty("id").GetString());
    }

    /// <summary>The background lane under a real job: an online request waits only for the run in progress, never for the job's queued requests.</summary>
    [Fact]
    public async Task An_online_request_goes_ahead_of_a_running_jobs_queued_requests()
    {
        var backend = new GatedBackend();
        _server.Folder.Add("identity", SampleModels.Identity(DataType.Int32, -1, 1), """{ "max_batch_size": 8 }""");
        Directory.CreateDirectory(Path.Combine(JobsFolder, "data"));
        File.WriteAllText(Path.Combine(JobsFolder, "data", "lane.csv"), "id,v\n" + string.Concat(Enumerable.Range(100, 6).Select(i => $"{i},{i}\n")));
        _server.Configuration.AddRange(["--Turbine:Jobs:Folder=" + JobsFolder, "--Turbine:Jobs:Workers=1", "--Turbine:Jobs:PollInterval=00:00:00.020"]);
        backend.Gate.Reset();
        await _server.StartAsync(backend: backend);
        var models = _server.Server.Services.GetRequiredService<Turbine.Traffic.InferenceService>();
        int Queued() => models.TryGetModel("identity", null, out var info) is null ? info!.QueuedRequests : -1;

        using var submitted = await SendAsync(HttpMethod.Post, "v2/jobs", """
            {"id": "lane", "model": "identity", "input": "data/lane.csv", "output": "out/lane", "inputs": {"INPUT0": ["v"]}, "keys": ["id"],
             "options": {"rows_per_request": 1, "max_rows_in_flight": 4}}
            """);
        Assert.Equal(HttpStatusCode.OK, submitted.StatusCode);
        Assert.True(await backend.Entered.WaitAsync(TimeSpan.FromSeconds(30))); // the job's first row runs and holds the instance
        await WaitUntilAsync(() => Queued() == 3);                              // its next three wait in the background lane
        var client = new Turbine.Client.TurbineHttpClient(_server.Http);
        var request = new InferenceRequest { ModelName = "identity" };
        request.Inputs.Add(Tensor.FromArray<int>("INPUT0", [1, 1], [-1]));
        var online = client.InferAsync(request);
        await WaitUntilAsync(() => Queued() == 4);
        backend.Gate.Set();

        using (await online)
        {
        }

        await WaitForAsync("lane", "succeeded");
        Assert.Equal([100, -1, 101, 102, 103, 104, 105], backend.Runs.Select(run => run[0]));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }

    [Fact]
    public async Task The_cli_submits_follows_lists_and_downloads_a_job_on_the_server()
    {
        await StartAsync(token: null);
        WriteInput("in.csv", 500);
        var url = $"http://127.0.0.1:{_server.Server.HttpPort}";

        var submit = await CliProcess.RunAsync("batch", "submit", "data/in.csv", "--model", "mlp", "--out", "out/cli", "--out-format", "jsonl", "--map", "features=a,b,c,d", "--keys", "id", "--partition-rows", "200", "--id", "from-cli", "--wait", "--url", url);
        var status = await CliProcess.RunAsync("batch", "status", "from-cli", "--url", url);
        var download = Path.Combine(_data.Root, "downloaded");
        var results = await CliProcess.RunAsync("batch", "results", "from-cli", "--download", download, "--url", url);
        var (cancelCode, cancel) = await CliProcess.RunRawAsync("batch", "cancel", "from-cli", "--url", url);

        Assert.Contains("from-cli queued", submit, StringComparison.Ordinal);
        Assert.Contains("succeeded", status, StringComparison.Ordinal);
        Assert.Contains("500/500 rows, 0 errors, 3/3 parts", status, StringComparison.Ordinal);
        Assert.Contains("part-00002.jsonl", results, StringComparison.Ordinal);
        Assert.Equal(500, Directory.GetFiles(download, "part-*.jsonl").Sum(f => File.ReadLines(f).Count()));
        Assert.True(File.Exists(Path.Combine(download, "_SUMMARY.json")));
        Assert.NotEqual(0, cancelCode);
        Assert.Contains("cannot become cancelled", cancel, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"model": "mlp", "input": "../outside.csv", "output": "out/x"}""", HttpStatusCode.BadRequest, "not a relative path inside the server's job data folder")]
    [InlineData("""{"model": "mlp", "input": "/etc/passwd", "output": "out/x", "options": {"partition_rows": 1}}""", HttpStatusCode.BadRequest, "format")]
    [InlineData("""{"model": "mlp", "input": {"uri": "/etc/passwd", "format": "csv"}, "output": "out/x"}""", HttpStatusCode.BadRequest, "not a relative path")]
    [InlineData("""{"model": "mlp", "input": "data/in.csv", "output": "out/%2e%2e/x/../../y"}""", HttpStatusCode.BadRequest, "not a relative path")]
    [InlineData("""{"input": "data/in.csv", "output": "out/x", "options": {"retries": -1, "max_error_percent": 300}}""", HttpStatusCode.BadRequest, "'model' is required; 'options.retries' must be 0 to 100")]
    [InlineData("""{"id": "../job", "model": "mlp", "input": "data/in.csv", "output": "out/x"}""", HttpStatusCode.BadRequest, "not a valid job id")]
    [InlineData("[1, 2]", HttpStatusCode.BadRequest, "must be a JSON object")]
    [InlineData("""{"model": "mlp", "input": "data/../../../etc/passwd.csv", "output": "out/x"}""", HttpStatusCode.BadRequest, "not a relative path")]
    [InlineData("""{"model": "mlp", "input": "..\\..\\x.csv", "output": "out/x"}""", HttpStatusCode.BadRequest, "not a relative path")]
    [InlineData("""{"model": "mlp", "input": "C:\\x.csv", "output": "out/x"}""", HttpStatusCode.BadRequest, "not a relative path")]
    [InlineData("""{"model": "mlp", "input": "data/in.csv", "output": "out/x\u0000y"}""", HttpStatusCode.BadRequest, "not a relative path")]
    [InlineData("""{"model": "mlp", "input": "data/in.csv", "output": "s3://bucket/../x"}""", HttpStatusCode.BadRequest, "'.' or '..' segment")]
    [InlineData("""{"id": "job\nforged", "model": "mlp", "input": "data/in.csv", "output": "out/x"}""", HttpStatusCode.BadRequest, "not a valid job id")]
    public async Task Bad_submissions_get_clear_errors_and_create_nothing(string body, HttpStatusCode status, string message)
    {
        await SubmitAndExpectAsync(body, status, message);
    }

    /// <summary>SECURITY.md A11: a definition nested past the depth limit is refused, never a stack overflow.</summary>
    [Theory]
    [InlineData(65)]
    [InlineData(250_000)]
    public async Task Definitions_nested_too_deep_are_refused(int depth)
    {
        var body = "{\"model\": \"mlp\", \"input\": \"data/in.csv\", \"output\": \"out/x\", \"options\": " + new string('[', depth) + new string(']', depth) + "}";
        await SubmitAndExpectAsync(body, HttpStatusCode.BadRequest, "not valid JSON");
    }

    private async Task SubmitAndExpectAsync(string body, HttpStatusCode status, string message)
    {
        await StartAsync(token: null);
        WriteInput("in.csv", 10);

        using var response = await SendAsync(HttpMethod.Post, "v2/jobs", body);

        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(status, response.StatusCode);
        Assert.Contains(message, text, StringComparison.Ordinal);
        Assert.Equal(0, (await GetJsonAsync("v2/jobs")).GetProperty("jobs").GetArrayLength());
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(JobsFolder)!, "outside.csv")));
    }

    [Fact]
    public async Task Unknown_jobs_and_files_are_404_and_changes_a_state_forbids_are_409()
    {
        await StartAsync(token: null);
        WriteInput("in.csv", 10);
        using var submitted = await SendAsync(HttpMethod.Post, "v2/jobs", """{"id": "small", "model": "mlp", "input": "data/in.csv", "output": "out/small", "inputs": {"features": ["a", "b", "c", "d"]}}""");
        await WaitForAsync("small", "succeeded");

        using var again = await SendAsync(HttpMethod.Post, "v2/jobs", """{"id": "small", "model": "mlp", "input": "data/in.csv", "output": "out/other"}""");
        using var missing = await SendAsync(HttpMethod.Get, "v2/jobs/nothing", null);
        using var cancel = await SendAsync(HttpMethod.Post, "v2/jobs/small/cancel", null);
        using var resume = await SendAsync(HttpMethod.Post, "v2/jobs/nothing/resume", null);
        using var escape = await SendAsync(HttpMethod.Get, "v2/jobs/small/results/..%2F..%2Fjobs.db", null);
        using var database = await SendAsync(HttpMethod.Get, "v2/jobs/small/results/part-00009.csv", null);

        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, cancel.StatusCode);
        Assert.Contains("is succeeded: it cannot become cancelled", await cancel.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, resume.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, escape.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, database.StatusCode);
    }

    [Fact]
    public async Task The_jobs_api_follows_the_management_rules()
    {
        await StartAsync(Token);
        WriteInput("in.csv", 10);
        const string Body = """{"model": "mlp", "input": "data/in.csv", "output": "out/x", "inputs": {"features": ["a", "b", "c", "d"]}}""";

        using var anonymous = await SendAsync(HttpMethod.Post, "v2/jobs", Body, token: null);
        using var wrong = await SendAsync(HttpMethod.Post, "v2/jobs", Body, token: "not-the-token-at-all-but-long-enough");
        using var inQuery = await SendAsync(HttpMethod.Get, $"v2/jobs?token={Token}", null, token: null);
        using var results = await SendAsync(HttpMethod.Get, "v2/jobs/x/results/part-00000.csv", null, token: null);
        using var allowed = await SendAsync(HttpMethod.Post, "v2/jobs", Body, token: Token);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, inQuery.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, results.StatusCode);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
    }

    private string JobsFolder => Path.Combine(_data.Root, "jobs");

    private async Task StartAsync(string? token)
    {
        _server.Folder.Add("mlp", SampleModels.Mlp(), """{ "max_batch_size": 16 }""");
        Directory.CreateDirectory(Path.Combine(JobsFolder, "data"));
        _server.Configuration.Add("--Turbine:Jobs:Folder=" + JobsFolder);
        _server.Configuration.Add("--Turbine:Jobs:PollInterval=00:00:00.050");
        if (token is not null)
        {
            _server.Configuration.Add("--Turbine:Management:Token=" + token);
        }

        await _server.StartAsync();
    }

    private void WriteInput(string name, int rows)
    {
        var csv = new StringBuilder("id,a,b,c,d\n");
        for (var i = 0; i < rows; i++)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{i},{i % 7},0.5,0.25,1\n");
        }

        File.WriteAllText(Path.Combine(JobsFolder, "data", name), csv.ToString());
    }

    private async Task<JsonElement> WaitForAsync(string id, string state)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var job = await GetJsonAsync($"v2/jobs/{id}");
            if (job.GetProperty("state").GetString() == state)
            {
                return job;
            }

            Assert.NotEqual("failed", job.GetProperty("state").GetString());
            await Task.Delay(50, timeout.Token);
        }
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? body, string? token = null) => _server.SendAsync(method, path, body, token);

    private Task<JsonElement> GetJsonAsync(string path) => _server.GetJsonAsync(path);
}
