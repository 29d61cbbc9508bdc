using System.Text.Json;

namespace Turbine.Onnx.Trees;

/// <summary>
/// The <c>fil</c> section of a tree model's configuration: <c>model_type</c> as Triton's FIL backend names it
/// (<c>lightgbm</c> or <c>xgboost_json</c>); without it, the file's first character tells (<c>{</c> is XGBoost's JSON).
/// </summary>
public sealed record TreeSettings : BackendSettings
{
    public const string LightGbm = "lightgbm";
    public const string XgboostJson = "xgboost_json";

    public static TreeSettings Default { get; } = new();

    /// <summary><see cref="LightGbm"/>, <see cref="XgboostJson"/>, or null to tell by the file.</summary>
    public string? ModelType { get; init; }

    /// <inheritdoc />
    public override bool IsEmpty => ModelType is null;

    public static TreeSettings Of(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.Settings as TreeSettings ?? Default;
    }

    public static TreeSettings Read(JsonElement? section, List<string> errors)
    {
        if (!ConfigJson.TrySection(section, "fil", errors, out var value))
        {
            return Default;
        }

        string? modelType = null;
        foreach (var property in value.EnumerateObject())
        {
            if (property.Name == "model_type" && property.Value.ValueKind == JsonValueKind.String && property.Value.GetString() is LightGbm or XgboostJson)
            {
                modelType = property.Value.GetString();
            }
            else if (property.Name == "model_type")
            {
                errors.Add($"fil.model_type: expected '{LightGbm}' or '{XgboostJson}'");
            }
            else
            {
                errors.Add($"fil.{property.Name}: unknown setting; the fil section takes model_type");
            }
        }

        return new TreeSettings { ModelType = modelType };
    }

    /// <inheritdoc />
    public override IReadOnlyList<KeyValuePair<string, string>> Parameters() =>
        ModelType is null ? [] : [KeyValuePair.Create("model_type", ModelType)];

    /// <inheritdoc />
    public override void WriteProperties(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (ModelType is not null)
        {
            writer.WriteString("model_type", ModelType);
        }
    }
}
