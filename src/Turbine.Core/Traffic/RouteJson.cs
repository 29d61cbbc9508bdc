using System.Globalization;
using System.Text.Json;
using Turbine.Core.Lifecycle;
using Turbine.Core.Repository;

namespace Turbine.Core.Traffic;

/// <summary>
/// Reads and writes routes as JSON, the same form in a request body and in the state folder:
/// <c>{"name":"fraud","variants":[{"model":"fraud_a","version":"2","weight":90},{"model":"fraud_b","weight":10}],"sticky_parameter":"user_id"}</c>.
/// Reading validates everything a route must satisfy on its own (names, weights, counts).
/// </summary>
public static class RouteJson
{
    /// <summary>Most variants a route may have.</summary>
    public const int MaxVariants = 16;

    /// <summary>Reads a route; <paramref name="name"/> (from the URL) wins over, and must agree with, any name in the body.</summary>
    public static InferenceError? Read(ReadOnlySpan<byte> json, string name, int maxDepth, out RouteDefinition? route)
    {
        route = null;
        if (!ModelNames.IsValid(name))
        {
            return InferenceError.Invalid($"'{ClientText.Quote(name)}' is not a valid route name");
        }

        try
        {
            using var document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = maxDepth });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return InferenceError.Invalid("a route must be a JSON object with 'variants'");
            }

            if (root.TryGetProperty("name", out var named) && (named.ValueKind != JsonValueKind.String || named.GetString() != name))
            {
                return InferenceError.Invalid($"the body names another route than '{name}'");
            }

            if (!root.TryGetProperty("variants", out var variants) || variants.ValueKind != JsonValueKind.Array ||
                variants.GetArrayLength() is 0 or > MaxVariants)
            {
                return InferenceError.Invalid($"'variants' must be an array of 1 to {MaxVariants} variants");
            }

            var list = new List<RouteVariant>();
            foreach (var variant in variants.EnumerateArray())
            {
                var error = ReadVariant(variant, list.Count, out var parsed);
                if (error is not null)
                {
                    return error;
                }

                list.Add(parsed!);
            }

            if (list.Sum(v => v.Weight) <= 0)
            {
                return InferenceError.Invalid("at least one variant needs a positive weight");
            }

            if (list.Select(v => v.Name).Distinct(StringComparer.Ordinal).Count() != list.Count)
            {
                return InferenceError.Invalid("a variant (model and version) appears more than once");
            }

            string? sticky = null;
            if (root.TryGetProperty("sticky_parameter", out var stickyElement) && stickyElement.ValueKind != JsonValueKind.Null)
            {
                sticky = stickyElement.ValueKind == JsonValueKind.String ? stickyElement.GetString() : null;
                if (sticky is null || !ModelNames.IsValid(sticky))
                {
                    return InferenceError.Invalid("'sticky_parameter' must name a request parameter (letters, digits, '.', '_', '-')");
                }
            }

            ShadowTarget? shadow = null;
            if (root.TryGetProperty("shadow", out var shadowElement) && shadowElement.ValueKind != JsonValueKind.Null)
            {
                var shadowError = ReadVariant(shadowElement, 0, out var target);
                var share = shadowElement.TryGetProperty("share", out var shareElement) && shareElement.ValueKind == JsonValueKind.Number ? shareElement.GetDouble() : double.NaN;
                if (shadowError is not null || !(share is >= 0 and <= 1))
                {
                    return InferenceError.Invalid("'shadow' needs a valid 'model', an optional 'version' and a 'share' from 0 to 1");
                }

                shadow = new ShadowTarget(target!.Model, target.Version, share);
            }

            route = new RouteDefinition(name, list, sticky, shadow);
            return null;
        }
        catch (JsonException)
        {
            return InferenceError.Invalid("the route is not valid JSON");
        }
    }

    public static void Write(Utf8JsonWriter writer, RouteDefinition route)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(route);
        writer.WriteStartObject();
        writer.WriteString("name", route.Name);
        writer.WriteStartArray("variants");
        foreach (var variant in route.Variants)
        {
            writer.WriteStartObject();
            WriteTarget(writer, variant.Model, variant.Version);
            writer.WriteNumber("weight", variant.Weight);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        if (route.StickyParameter is not null)
        {
            writer.WriteString("sticky_parameter", route.StickyParameter);
        }

        if (route.Shadow is { } shadow)
        {
            writer.WriteStartObject("shadow");
            WriteTarget(writer, shadow.Model, shadow.Version);
            writer.WriteNumber("share", shadow.Share);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    private static void WriteTarget(Utf8JsonWriter writer, string model, string? version)
    {
        writer.WriteString("model", model);
        if (version is not null)
        {
            writer.WriteString("version", version);
        }
    }

    private static InferenceError? ReadVariant(JsonElement variant, int index, out RouteVariant? parsed)
    {
        parsed = null;
        var where = $"variants[{index}]";
        if (variant.ValueKind != JsonValueKind.Object ||
            !variant.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.String || !ModelNames.IsValid(model.GetString()))
        {
            return InferenceError.Invalid($"'{where}' needs a valid 'model' name");
        }

        string? version = null;
        if (variant.TryGetProperty("version", out var versionElement) && versionElement.ValueKind != JsonValueKind.Null)
        {
            version = versionElement.ValueKind switch
            {
                JsonValueKind.String => versionElement.GetString(),
                JsonValueKind.Number when versionElement.TryGetInt64(out var number) => number.ToString(CultureInfo.InvariantCulture),
                _ => null,
            };
            if (version is null || !(ModelNames.TryParseVersion(version, out _) || VersionRouting.IsValidLabel(version)))
            {
                return InferenceError.Invalid($"'{where}.version' must be a version number or a label");
            }
        }

        var weight = 1.0;
        if (variant.TryGetProperty("weight", out var weightElement) &&
            (weightElement.ValueKind != JsonValueKind.Number || !weightElement.TryGetDouble(out weight) || !double.IsFinite(weight) || weight < 0 || weight > 1e9))
        {
            return InferenceError.Invalid($"'{where}.weight' must be a number from 0 to 1e9");
        }

        parsed = new RouteVariant(model.GetString()!, version, weight);
        return null;
    }
}
