using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace Turbine.Protocols.KServe;

/// <summary>
/// Bodies of the repository (control-plane) API beyond the index: the load request with Triton's
/// <c>parameters.config</c> override, and Turbine's version routing (default version, labels, rollback).
/// </summary>
public static class RepositoryJson
{
    /// <summary>
    /// Reads a load request as Triton's clients send it: <c>{"parameters": {"config": "&lt;config JSON&gt;",
    /// "file:1/model.onnx": "&lt;base64&gt;"}}</c>. The files' paths are checked where they are staged.
    /// </summary>
    public static InferenceError? ReadLoadRequest(ReadOnlySpan<byte> body, int maxDepth, out string? config, out List<ModelFileUpload> files)
    {
        config = null;
        files = [];
        if (body.IsEmpty)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { MaxDepth = maxDepth });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return InferenceError.Invalid("the load request body must be a JSON object");
            }

            if (!root.TryGetProperty("parameters", out var parameters))
            {
                return null;
            }

            if (parameters.ValueKind != JsonValueKind.Object)
            {
                return InferenceError.Invalid("'parameters' must be a JSON object");
            }

            foreach (var parameter in parameters.EnumerateObject())
            {
                if (parameter.Name == "config")
                {
                    if (parameter.Value.ValueKind != JsonValueKind.String)
                    {
                        return InferenceError.Invalid("parameter 'config' must be a string holding the model configuration as JSON");
                    }

                    config = parameter.Value.GetString();
                }
                else if (parameter.Name.StartsWith(FilePrefix, StringComparison.Ordinal))
                {
                    if (parameter.Value.ValueKind != JsonValueKind.String || !TryDecodeBase64(parameter.Value.GetString()!, out var content))
                    {
                        return InferenceError.Invalid($"parameter '{ClientText.Quote(parameter.Name)}' must be a string holding the file's bytes in base64");
                    }

                    files.Add(new ModelFileUpload(parameter.Name[FilePrefix.Length..], content));
                }
                else
                {
                    return InferenceError.Invalid($"unknown load parameter '{ClientText.Quote(parameter.Name)}'; 'config' and 'file:<path>' are supported");
                }
            }

            return null;
        }
        catch (JsonException)
        {
            return InferenceError.Invalid("the load request body is not valid JSON");
        }
    }

    /// <summary>The prefix of Triton's load parameters that carry a model file: <c>file:1/model.onnx</c>.</summary>
    public const string FilePrefix = "file:";

    private static bool TryDecodeBase64(string text, out byte[] content)
    {
        content = new byte[(text.Length * 3 / 4) + 3];
        if (!Convert.TryFromBase64String(text, content, out var written))
        {
            return false;
        }

        Array.Resize(ref content, written);
        return true;
    }

    /// <summary>Reads <c>{"version": 2}</c> (a number or a decimal string), or <c>{"version": null}</c> to clear.</summary>
    public static InferenceError? ReadVersionRequest(ReadOnlySpan<byte> body, int maxDepth, out long? version)
    {
        version = null;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = maxDepth });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return VersionBodyError();
            }

            var found = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isVersion = reader.ValueTextEquals("version"u8);
                reader.Read();
                if (!isVersion)
                {
                    reader.Skip();
                    continue;
                }

                found = true;
                if (reader.TokenType == JsonTokenType.Null)
                {
                    version = null;
                }
                else if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var number) && number > 0)
                {
                    version = number;
                }
                else if (reader.TokenType == JsonTokenType.String &&
                         long.TryParse(reader.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out number) && number > 0)
                {
                    version = number;
                }
                else
                {
                    return VersionBodyError();
                }
            }

            return found ? null : VersionBodyError();
        }
        catch (JsonException)
        {
            return VersionBodyError();
        }
    }

    /// <summary>Writes <c>{"name", "versions", "default_version", "pinned", "labels"}</c>; versions as strings, as in the index.</summary>
    public static void WriteServingView(IBufferWriter<byte> output, ServingView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        using var writer = new Utf8JsonWriter(output, KServeJson.WriterOptions);
        writer.WriteStartObject();
        writer.WriteString("name", view.Model);
        writer.WriteStartArray("versions");
        foreach (var version in view.Versions)
        {
            writer.WriteStringValue(version.ToString(CultureInfo.InvariantCulture));
        }

        writer.WriteEndArray();
        if (view.DefaultVersion is { } current)
        {
            writer.WriteString("default_version", current.ToString(CultureInfo.InvariantCulture));
        }

        writer.WriteBoolean("pinned", view.Pinned);
        writer.WriteStartObject("labels");
        foreach (var (label, version) in view.Labels.OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            writer.WriteString(label, version.ToString(CultureInfo.InvariantCulture));
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>Reads what <see cref="WriteServingView"/> wrote.</summary>
    public static ServingView ReadServingView(ReadOnlySpan<byte> json)
    {
        var document = JsonDocument.Parse(json.ToArray());
        using (document)
        {
            var root = document.RootElement;
            var versions = root.GetProperty("versions").EnumerateArray().Select(v => long.Parse(v.GetString()!, CultureInfo.InvariantCulture)).ToList();
            long? current = root.TryGetProperty("default_version", out var d) ? long.Parse(d.GetString()!, CultureInfo.InvariantCulture) : null;
            var labels = root.GetProperty("labels").EnumerateObject().ToDictionary(l => l.Name, l => long.Parse(l.Value.GetString()!, CultureInfo.InvariantCulture), StringComparer.Ordinal);
            return new ServingView(root.GetProperty("name").GetString()!, versions, current, root.GetProperty("pinned").GetBoolean(), labels);
        }
    }

    private static InferenceError VersionBodyError() =>
        InferenceError.Invalid("the body must be {\"version\": N} with N a positive integer, or {\"version\": null} to clear");
}
