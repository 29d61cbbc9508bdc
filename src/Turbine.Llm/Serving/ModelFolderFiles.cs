using System.Text.Json;
using Turbine.Llm.Tokenization;

namespace Turbine.Llm.Serving;

/// <summary>
/// What an exported model's folder says beside its weights: the end-of-text tokens (<c>generation_config.json</c>'s
/// <c>eos_token_id</c>, one or a list, and <c>tokenizer_config.json</c>'s <c>eos_token</c>), the context length (the
/// model's own <c>config.json</c>: <c>max_position_embeddings</c> or GPT-2's <c>n_positions</c>; else the tokenizer's
/// <c>model_max_length</c>) and the chat template. Files that are absent leave their defaults; a file that is
/// present but malformed fails the load, naming it.
/// </summary>
internal sealed record ModelFolderFiles(IReadOnlySet<int> EndTokens, int? ContextLength, string? ChatTemplate, IReadOnlyDictionary<string, string> SpecialTokens)
{
    /// <summary>Largest configuration file read (chat templates run to tens of kilobytes).</summary>
    private const long MaxBytes = 4L << 20;

    public static ModelFolderFiles Read(string folder, LoadedTokenizer tokenizer)
    {
        var ends = new HashSet<int>();
        int? maxLength = null;
        string? template = null;
        var special = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Open(folder, "config.json") is { } model)
        {
            using (model)
            {
                maxLength = PositiveInt(model.RootElement, "max_position_embeddings") ?? PositiveInt(model.RootElement, "n_positions");
            }
        }

        if (Open(folder, "generation_config.json") is { } generation)
        {
            using (generation)
            {
                AddIds(generation.RootElement, "eos_token_id", ends);
            }
        }

        if (Open(folder, "tokenizer_config.json") is { } config)
        {
            using (config)
            {
                var root = config.RootElement;
                if (TokenText(root, "eos_token") is { } eos && tokenizer.AddedTokens.TryGetValue(eos, out var id))
                {
                    ends.Add(id);
                }

                maxLength ??= PositiveInt(root, "model_max_length"); // tokenizers write 1e30 for "no limit": not an int, so ignored

                template = Template(root);
                foreach (var name in (string[])["bos_token", "eos_token", "unk_token", "pad_token"])
                {
                    if (TokenText(root, name) is { } text)
                    {
                        special[name] = text; // what templates print as {{ bos_token }}
                    }
                }
            }
        }

        return new ModelFolderFiles(ends, maxLength, template, special);
    }

    private static JsonDocument? Open(string folder, string name)
    {
        var path = Path.Combine(folder, name);
        if (!File.Exists(path))
        {
            return null;
        }

        if (new FileInfo(path).Length > MaxBytes)
        {
            throw new InferenceException($"{name} is larger than {MaxBytes} bytes");
        }

        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException e)
        {
            throw new InferenceException($"{name} is not valid JSON: {e.Message}");
        }
    }

    private static void AddIds(JsonElement root, string property, HashSet<int> ids)
    {
        if (!root.TryGetProperty(property, out var value))
        {
            return;
        }

        foreach (var id in value.ValueKind == JsonValueKind.Array ? [.. value.EnumerateArray()] : (JsonElement[])[value])
        {
            if (id.ValueKind == JsonValueKind.Number && id.TryGetInt32(out var token))
            {
                ids.Add(token);
            }
        }
    }

    private static int? PositiveInt(JsonElement root, string property) =>
        root.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) && number > 0 ? number : null;

    /// <summary>A special token's text: a plain string, or an added-token object's <c>content</c>.</summary>
    private static string? TokenText(JsonElement root, string property) =>
        !root.TryGetProperty(property, out var value) ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : value.ValueKind == JsonValueKind.Object && value.TryGetProperty("content", out var content) ? content.GetString()
        : null;

    /// <summary>The chat template: a string, or the one named <c>default</c> of a list of named templates.</summary>
    private static string? Template(JsonElement root)
    {
        if (!root.TryGetProperty("chat_template", out var value))
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString();
        }

        if (value.ValueKind == JsonValueKind.Array)
        {
            foreach (var named in value.EnumerateArray())
            {
                if (named.TryGetProperty("name", out var name) && name.GetString() == "default" && named.TryGetProperty("template", out var template))
                {
                    return template.GetString();
                }
            }
        }

        return null;
    }
}
