using System.Globalization;
using System.Text.Json;
using Turbine.Core.Lifecycle;

namespace Turbine.Core.Repository;

/// <summary>Reads a reference to a model from JSON, as routes and pipelines write it: <c>{"model": "m", "version": 2 | "2" | "stable"}</c>.</summary>
public static class ModelReferenceJson
{
    /// <param name="element">The object holding <c>model</c> and the optional <c>version</c>.</param>
    /// <param name="where">How errors name the object.</param>
    /// <param name="model">The model's name.</param>
    /// <param name="version">A version number or label; null for the default version.</param>
    public static InferenceError? Read(JsonElement element, string where, out string? model, out string? version)
    {
        model = null;
        version = null;
        if (element.ValueKind != JsonValueKind.Object ||
            !element.TryGetProperty("model", out var name) || name.ValueKind != JsonValueKind.String || !ModelNames.IsValid(name.GetString()))
        {
            return InferenceError.Invalid($"{where} needs a valid 'model' name");
        }

        model = name.GetString();
        if (element.TryGetProperty("version", out var versionElement) && versionElement.ValueKind != JsonValueKind.Null)
        {
            version = versionElement.ValueKind switch
            {
                JsonValueKind.String => versionElement.GetString(),
                JsonValueKind.Number when versionElement.TryGetInt64(out var number) => number.ToString(CultureInfo.InvariantCulture),
                _ => null,
            };
            if (version is null || !(ModelNames.TryParseVersion(version, out _) || VersionRouting.IsValidLabel(version)))
            {
                return InferenceError.Invalid($"{where}: 'version' must be a version number or a label");
            }
        }

        return null;
    }
}
