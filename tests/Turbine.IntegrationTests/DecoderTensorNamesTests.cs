using System.Net;
using System.Text.Json;
using Turbine.Onnx.Tools;
using Turbine.Onnx.Tools.Samples;

namespace Turbine.IntegrationTests;

/// <summary>A decoder exported with other tensor names serves once its configuration names them, and fails its load saying what it lacks when not.</summary>
public sealed class DecoderTensorNamesTests : IAsyncLifetime
{
    private readonly FolderServer _server = new();

    public async Task InitializeAsync()
    {
        foreach (var name in (string[])["renamed", "unnamed"])
        {
            var folder = Path.Combine(_server.Folder.Root, name, "1");
            GenerativeModelFolder.Write(folder, new DecoderShape(Layers: 1, Context: 64));
            Rename(Path.Combine(folder, "model.onnx"), n => n
                .Replace("past_key_values.", "past.", StringComparison.Ordinal)
                .Replace("present.", "kv_out.", StringComparison.Ordinal)
                .Replace("input_ids", "token_ids", StringComparison.Ordinal));
        }

        File.WriteAllText(Path.Combine(_server.Folder.Root, "renamed", "config.json"), """
            {"backend":"llm","llm":{"tensors":{"input_ids":"token_ids","past_key":"past.{layer}.key","past_value":"past.{layer}.value",
             "present_key":"kv_out.{layer}.key","present_value":"kv_out.{layer}.value"}}}
            """);
        await _server.StartAsync();
    }

    public Task DisposeAsync() => _server.DisposeAsync().AsTask();

    [Fact]
    public async Task Named_tensors_serve_and_unnamed_ones_fail_the_load_with_what_is_missing()
    {
        using var index = await _server.SendAsync(HttpMethod.Post, "v2/repository/index", "{}");
        var models = JsonDocument.Parse(await index.Content.ReadAsStringAsync()).RootElement.EnumerateArray().ToList();
        var renamed = models.Single(m => m.GetProperty("name").GetString() == "renamed");
        Assert.True(renamed.GetProperty("state").GetString() == "READY", renamed.ToString());
        using var completion = await _server.SendAsync(HttpMethod.Post, "v1/completions", """{"model":"renamed","prompt":"Hello","max_tokens":3}""");
        Assert.Equal(HttpStatusCode.OK, completion.StatusCode);

        var unnamed = models.Single(m => m.GetProperty("name").GetString() == "unnamed");
        Assert.Equal("UNAVAILABLE", unnamed.GetProperty("state").GetString());
        Assert.Contains("no input 'input_ids'", unnamed.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    /// <summary>Renames every graph input, output and node reference of a model file.</summary>
    private static void Rename(string path, Func<string, string> rename)
    {
        var model = OnnxModelEditor.Read(path);
        foreach (var value in model.Graph.Input.Concat(model.Graph.Output))
        {
            value.Name = rename(value.Name);
        }

        foreach (var node in model.Graph.Node)
        {
            for (var i = 0; i < node.Input.Count; i++)
            {
                node.Input[i] = rename(node.Input[i]);
            }

            for (var i = 0; i < node.Output.Count; i++)
            {
                node.Output[i] = rename(node.Output[i]);
            }
        }

        OnnxModelEditor.Write(model, path);
    }
}
