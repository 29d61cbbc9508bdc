using System.Text.Json;

namespace Turbine.Protocols;

/// <summary>
/// A model's configuration file as written (<see cref="ModelConfig.SourceJson"/>), for the fields Turbine does not act
/// on but hands back to clients: an input's <c>format</c>, the <c>parameters</c>, <c>default_model_filename</c>.
/// </summary>
internal sealed class ConfigSource : IDisposable
{
    private readonly JsonDocument? _document;

    private ConfigSource(JsonDocument? document) => _document = document;

    public static ConfigSource Parse(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return new ConfigSource(null);
        }

        var document = JsonDocument.Parse(json);
        return new ConfigSource(document.RootElement.ValueKind == JsonValueKind.Object ? document : null);
    }

    /// <summary>The file's top-level object, or null when the model has no configuration file.</summary>
    public JsonElement? Root => _document?.RootElement;

    /// <summary>The entry of the tensor named <paramref name="name"/> in the <paramref name="array"/> array (<c>input</c>, <c>output</c>), or null.</summary>
    public JsonElement? Tensor(string array, string name)
    {
        if (_document is null || !_document.RootElement.TryGetProperty(array, out var tensors) || tensors.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        foreach (var tensor in tensors.EnumerateArray())
        {
            if (tensor.ValueKind == JsonValueKind.Object && tensor.TryGetProperty("name", out var named) && named.ValueKind == JsonValueKind.String && named.ValueEquals(name))
            {
                return tensor;
            }
        }

        return null;
    }

    /// <summary>A top-level string field, or null.</summary>
    public string? String(string property) =>
        _document is not null && _document.RootElement.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>A string field of the tensor named <paramref name="name"/> in the <paramref name="array"/> array, or null.</summary>
    public string? TensorString(string array, string name, string property) =>
        Tensor(array, name) is { } tensor && tensor.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>Triton's <c>parameters</c>: <c>{"key": {"string_value": "v"}}</c>.</summary>
    public IEnumerable<(string Name, string Value)> Parameters()
    {
        if (_document is null || !_document.RootElement.TryGetProperty("parameters", out var parameters) || parameters.ValueKind != JsonValueKind.Object)
        {
            yield break;
        }

        foreach (var parameter in parameters.EnumerateObject())
        {
            if (parameter.Value.ValueKind == JsonValueKind.Object && parameter.Value.TryGetProperty("string_value", out var value) && value.ValueKind == JsonValueKind.String)
            {
                yield return (parameter.Name, value.GetString()!);
            }
        }
    }

    public void Dispose() => _document?.Dispose();
}
