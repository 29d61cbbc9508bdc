using System.Net;
using System.Text;
using System.Text.Json;
using Turbine.Cli.Demo;

namespace Turbine.IntegrationTests;

/// <summary>
/// The newcomer's path: the demo repository (ResNet18 and MiniLM from their NuGet packages included) generated, served, and
/// queried with raw HTTP and with the <c>turbine</c> command itself.
/// </summary>
public sealed class DemoRepositoryTests : IAsyncLifetime
{
    private readonly FolderServer _demo = new();
    private string _progress = string.Empty;

    private HttpClient Http => _demo.Http;

    public async Task InitializeAsync()
    {
        using var progress = new StringWriter();
        DemoRepository.Ensure(_demo.Folder.Root, progress);
        _progress = progress.ToString();
        _demo.Configuration.Add("--Turbine:Observer:SampleRate=1"); // every request reaches the drift window, so the monitoring test is deterministic
        await _demo.StartAsync();
    }

    public async Task DisposeAsync() => await _demo.DisposeAsync();

    [Fact]
    public async Task Every_demo_model_loads_and_generation_reports_progress()
    {
        Assert.Contains("[1/23] generating demo model 'mlp'", _progress, StringComparison.Ordinal);
        Assert.Contains("'resnet18'", _progress, StringComparison.Ordinal);
        Assert.Contains("[23/23] generating demo model 'minilm'", _progress, StringComparison.Ordinal);
        using var response = await Http.PostAsync("v2/repository/index", null);
        using var index = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(23, index.RootElement.GetArrayLength());
        Assert.All(index.RootElement.EnumerateArray(), m => Assert.Equal("READY", m.GetProperty("state").GetString()));

        using var again = new StringWriter();
        DemoRepository.Ensure(_demo.Folder.Root, again);
        Assert.Equal(string.Empty, again.ToString());
    }

    [Fact]
    public async Task The_demo_decoder_answers_the_readmes_chat_example_whole_and_streamed()
    {
        const string chat = """{"model":"tiny_gpt","messages":[{"role":"user","content":"Write a haiku about GPUs."}],"max_tokens":24}""";
        var answer = await PostAsync("v1/chat/completions", chat);
        var tokens = answer.GetProperty("usage").GetProperty("completion_tokens").GetInt32();
        var finish = answer.GetProperty("choices")[0].GetProperty("finish_reason").GetString();
        Assert.True(finish == "length" ? tokens == 24 : finish == "stop", $"{finish} after {tokens} tokens");
        Assert.False(string.IsNullOrEmpty(answer.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()));

        using var streamed = await Http.PostAsync("v1/chat/completions", new StringContent(chat.Replace("}],", "}],\"stream\":true,", StringComparison.Ordinal), System.Text.Encoding.UTF8, "application/json"));
        var events = await streamed.Content.ReadAsStringAsync();
        Assert.StartsWith("data: {", events, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", events, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_readmes_similarity_example_scores_the_related_pair_above_the_unrelated_ones()
    {
        var answer = await PostAsync("v1/embeddings", """{"model":"minilm","input":["A man is playing a guitar.","Someone plays a musical instrument.","The stock market fell today."]}""");
        var e = answer.GetProperty("data").EnumerateArray().Select(d => d.GetProperty("embedding").EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        double Dot(int a, int b) => e[a].Zip(e[b]).Sum(p => p.First * p.Second);

        Assert.InRange(Dot(0, 1), 0.4, 0.7);   // the README says "about 0.5"
        Assert.InRange(Dot(0, 2), -0.15, 0.15); // and "about 0"
        Assert.InRange(Dot(1, 2), -0.15, 0.15);
        Assert.Equal(1, Dot(0, 0), 4);
    }

    [Fact]
    public async Task Curl_style_requests_get_correct_answers_from_simple_mlp_resnet18_and_minilm()
    {
        var simple = await PostAsync("v2/models/simple/infer",
            """{"inputs":[{"name":"INPUT0","shape":[1,16],"datatype":"INT32","data":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]},{"name":"INPUT1","shape":[1,16],"datatype":"INT32","data":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}]}""");
        Assert.Equal(Enumerable.Range(2, 16), simple.GetProperty("outputs")[0].GetProperty("data").EnumerateArray().Select(v => v.GetInt32()));

        var mlp = await PostAsync("v2/models/mlp/infer", """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[5.1,3.5,1.4,0.2]}]}""");
        var probabilities = mlp.GetProperty("outputs")[0].GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Assert.Equal(1f, probabilities.Sum(), 4);
        Assert.Equal(Array.IndexOf(probabilities, probabilities.Max()), mlp.GetProperty("outputs")[1].GetProperty("data")[0].GetInt64());

        var pixels = string.Join(",", Enumerable.Repeat("0.5", 3 * 224 * 224));
        var resnet = await PostAsync("v2/models/resnet18/infer", $$"""{"inputs":[{"name":"Input247","shape":[1,3,224,224],"datatype":"FP32","data":[{{pixels}}]}]}""");
        var features = resnet.GetProperty("outputs")[0];
        Assert.Equal([1L, 512, 1, 1], features.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        Assert.Contains(features.GetProperty("data").EnumerateArray(), v => v.GetSingle() > 0);

        // MiniLM: [CLS] hello world [SEP] as its vocabulary numbers them; one 384-wide vector per token.
        var minilm = await PostAsync("v2/models/minilm/infer",
            """{"inputs":[{"name":"input_ids","shape":[1,4],"datatype":"INT64","data":[101,7592,2088,102]},{"name":"attention_mask","shape":[1,4],"datatype":"INT64","data":[1,1,1,1]},{"name":"token_type_ids","shape":[1,4],"datatype":"INT64","data":[0,0,0,0]}]}""");
        var tokens = minilm.GetProperty("outputs")[0];
        Assert.Equal([1L, 4, 384], tokens.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        Assert.Equal("hello", File.ReadLines(Path.Combine(_demo.Folder.Root, "minilm", "vocab.txt")).Skip(7592).First());
    }

    [Fact]
    public async Task The_demo_mlp_is_monitored_and_turbine_drift_and_cost_report_it()
    {
        var url = $"http://127.0.0.1:{_demo.Server.HttpPort}";
        var random = new Random(11);
        float[][] species = [[5.0f, 3.4f, 1.5f, 0.25f], [5.9f, 2.8f, 4.3f, 1.3f], [6.6f, 3.0f, 5.6f, 2.0f]];
        for (var request = 0; request < 10; request++)
        {
            var rows = Enumerable.Range(0, 20).SelectMany(r => species[r % 3].Select(v => v + (float)((random.NextDouble() - 0.5) * 0.4)));
            var body = $$"""{"inputs":[{"name":"features","shape":[20,4],"datatype":"FP32","data":[{{string.Join(",", rows.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))}}]}]}""";
            using var response = await Http.PostAsync("v2/models/mlp/infer", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await MonitoredClassifier.WaitForRowsAsync(_demo, 200, model: "mlp");

        var drift = await RunCliAsync("drift", "mlp", "--url", url);
        var cost = await RunCliAsync("cost", "--url", url);

        Assert.Contains("mlp version 1: window 200/500 rows", drift, StringComparison.Ordinal);
        Assert.Contains("features[0]", drift, StringComparison.Ordinal);
        Assert.Contains("accuracy: estimated", drift, StringComparison.Ordinal);
        Assert.Matches(@"mlp 1\s+\d+", cost);
    }

    [Fact]
    public async Task Turbine_infer_prints_correct_answers()
    {
        var url = $"http://127.0.0.1:{_demo.Server.HttpPort}";
        var ones = string.Join(",", Enumerable.Repeat(1, 16));
        var counting = string.Join(",", Enumerable.Range(1, 16));

        var simple = await RunCliAsync("infer", "simple", "--url", url, "-i", $"INPUT0={counting}", "-i", $"INPUT1={ones}");
        var grpc = await RunCliAsync("infer", "simple", "-p", "grpc", "--url", $"http://127.0.0.1:{_demo.Server.GrpcPort}", "-i", $"INPUT0={counting}", "-i", $"INPUT1={ones}");
        var mlp = await RunCliAsync("infer", "mlp", "--url", url, "-i", "features=5.1,3.5,1.4,0.2");
        var resnet = await RunCliAsync("infer", "resnet18", "--url", url, "--fill", "0.5", "--max-values", "4");
        var text = await RunCliAsync("infer", "string_upper", "--url", url, "-i", "TEXT=hello,turbine");

        Assert.Contains("OUTPUT0 INT32 [1,16]: [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]", simple, StringComparison.Ordinal);
        Assert.Contains("OUTPUT1 INT32 [1,16]: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]", simple, StringComparison.Ordinal);
        Assert.Contains("OUTPUT0 INT32 [1,16]: [2, 3, 4,", grpc, StringComparison.Ordinal);
        Assert.Matches(@"probabilities FP32 \[1,3\]: \[[0-9.eE-]+, [0-9.eE-]+, [0-9.eE-]+\]", mlp);
        Assert.Matches(@"label INT64 \[1\]: \[[0-2]\]", mlp);
        Assert.Contains("Pooling395_Output_0 FP32 [1,512,1,1]:", resnet, StringComparison.Ordinal);
        Assert.Contains("... (512 values)]", resnet, StringComparison.Ordinal);
        Assert.Contains("UPPER BYTES [2]: [\"HELLO\", \"TURBINE\"]", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Turbine_models_commands_list_config_stats_unload_and_load()
    {
        var url = $"http://127.0.0.1:{_demo.Server.HttpPort}";

        Assert.Matches(@"resnet18\s+1\s+READY", await RunCliAsync("models", "list", "--url", url));
        Assert.Contains("\"max_batch_size\": 8", await RunCliAsync("models", "config", "simple", "--url", url), StringComparison.Ordinal);
        Assert.Contains("simple", await RunCliAsync("models", "stats", "--url", url), StringComparison.Ordinal);
        Assert.Contains("identity_int8 unloaded", await RunCliAsync("models", "unload", "identity_int8", "--url", url), StringComparison.Ordinal);
        Assert.Matches(@"identity_int8\s+1\s+UNAVAILABLE\s+unloaded", await RunCliAsync("models", "list", "--url", url));
        Assert.Contains("identity_int8 loaded", await RunCliAsync("models", "load", "identity_int8", "--url", url), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Turbine_infer_reports_server_errors_with_a_non_zero_exit()
    {
        var (exitCode, output) = await RunCliRawAsync("infer", "nope", "--url", $"http://127.0.0.1:{_demo.Server.HttpPort}", "--fill", "1");

        Assert.Equal(1, exitCode);
        Assert.Contains("error (NotFound): Request for unknown model: 'nope' is not found", output, StringComparison.Ordinal);
    }

    private async Task<JsonElement> PostAsync(string path, string json)
    {
        using var response = await Http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static Task<string> RunCliAsync(params string[] args) => CliProcess.RunAsync(args);

    private static Task<(int ExitCode, string Output)> RunCliRawAsync(params string[] args) => CliProcess.RunRawAsync(args);
}
