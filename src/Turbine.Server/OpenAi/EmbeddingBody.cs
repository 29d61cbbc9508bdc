using System.Text.Json;

namespace Turbine.Server.OpenAi;

/// <summary>An embeddings request, read and checked as the OpenAI API checks it.</summary>
internal sealed record EmbeddingBody(string Model, IReadOnlyList<Prompt> Inputs, bool Base64, int? Dimensions)
{
    /// <summary>Most inputs in one request, as the OpenAI API allows.</summary>
    private const int MaxInputs = 2048;

    public static EmbeddingBody? Read(ReadOnlySpan<byte> json, out OpenAiError? error)
    {
        error = null;
        try
        {
            using var document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = OpenAiError.Invalid("the request body must be a JSON object");
                return null;
            }

            if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.String)
            {
                error = OpenAiError.Invalid("'model' is required", "model");
                return null;
            }

            var format = root.TryGetProperty("encoding_format", out var encoding) && encoding.ValueKind == JsonValueKind.String ? encoding.GetString() : "float";
            if (format is not ("float" or "base64"))
            {
                error = OpenAiError.Invalid($"'encoding_format' must be float or base64, got '{ClientText.Quote(format ?? string.Empty)}'", "encoding_format");
                return null;
            }

            int? dimensions = null;
            if (root.TryGetProperty("dimensions", out var size) && size.ValueKind != JsonValueKind.Null)
            {
                if (size.ValueKind != JsonValueKind.Number || !size.TryGetInt32(out var cut) || cut < 1)
                {
                    error = OpenAiError.Invalid("'dimensions' must be a positive integer", "dimensions");
                    return null;
                }

                dimensions = cut;
            }

            return ReadInputs(root, out error) is { } inputs ? new EmbeddingBody(model.GetString()!, inputs, format == "base64", dimensions) : null;
        }
        catch (JsonException)
        {
            error = OpenAiError.Invalid("the request body is not valid JSON");
            return null;
        }
    }

    /// <summary>'input': a string, an array of strings, an array of token ids, or an array of those arrays; nothing empty.</summary>
    private static List<Prompt>? ReadInputs(JsonElement root, out OpenAiError? error)
    {
        error = OpenAiError.Invalid("'input' must be a non-empty string, an array of them (at most 2048), an array of token ids, or an array of those", "input");
        if (!root.TryGetProperty("input", out var input))
        {
            return null;
        }

        var items = input.ValueKind == JsonValueKind.Array && input.GetArrayLength() > 0 && input[0].ValueKind != JsonValueKind.Number
            ? [.. input.EnumerateArray()]
            : (JsonElement[])[input];
        if (items.Length > MaxInputs)
        {
            return null;
        }

        var prompts = new List<Prompt>();
        foreach (var item in items)
        {
            if (item.ValueKind == JsonValueKind.String && item.GetString() is { Length: > 0 } text)
            {
                prompts.Add(new Prompt(text, null));
            }
            else if (item.ValueKind == JsonValueKind.Array && item.GetArrayLength() > 0 && item.EnumerateArray().All(t => t.ValueKind == JsonValueKind.Number && t.TryGetInt32(out var id) && id >= 0))
            {
                prompts.Add(new Prompt(null, [.. item.EnumerateArray().Select(t => t.GetInt32())]));
            }
            else
            {
                return null;
            }
        }

        error = null;
        return prompts;
    }
}
