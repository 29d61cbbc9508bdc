using System.Text.Json;

namespace Turbine.Edge.Updates.Tuf;

/// <summary>Required-field readers that turn a missing or mistyped field into <see cref="TufFailure.Malformed"/>.</summary>
internal static class TufJson
{
    public static string RequiredString(JsonElement element, string name, string where) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new TufException(TufFailure.Malformed, $"{where}: \"{name}\" must be a string");

    public static long RequiredInteger(JsonElement element, string name, string where) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var integer)
            ? integer
            : throw new TufException(TufFailure.Malformed, $"{where}: \"{name}\" must be an integer");

    public static JsonElement RequiredObject(JsonElement element, string name, string where) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object
            ? value
            : throw new TufException(TufFailure.Malformed, $"{where}: \"{name}\" must be an object");

    public static string? OptionalSha256(JsonElement element, string where)
    {
        if (!element.TryGetProperty("hashes", out var hashes))
        {
            return null;
        }

        return hashes.ValueKind == JsonValueKind.Object && hashes.TryGetProperty("sha256", out var sha) && sha.ValueKind == JsonValueKind.String
            ? sha.GetString()!.ToLowerInvariant()
            : throw new TufException(TufFailure.Malformed, $"{where}: hashes must carry sha256");
    }

    public static long? OptionalLength(JsonElement element, string where) =>
        element.TryGetProperty("length", out _) ? RequiredInteger(element, "length", where) : null;
}
