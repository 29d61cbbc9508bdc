using System.Text.Json;

namespace Turbine.Jobs.Formats;

/// <summary>JSON values as row cells: numbers as long or double, strings, booleans, null, arrays as lists; objects as their text.</summary>
internal static class JsonCells
{
    /// <summary>Parses lines with the same depth limit as every other JSON Turbine reads (SECURITY.md A11).</summary>
    public static readonly JsonDocumentOptions Limits = new() { MaxDepth = 64 };

    public static object? From(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.TryGetInt64(out var whole) ? whole : value.GetDouble(),
        JsonValueKind.Array => List(value),
        _ => value.GetRawText(),
    };

    private static List<object?> List(JsonElement array)
    {
        var items = new List<object?>(array.GetArrayLength());
        foreach (var item in array.EnumerateArray())
        {
            items.Add(From(item));
        }

        return items;
    }
}
