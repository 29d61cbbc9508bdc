using System.Globalization;
using System.Text.Json;

namespace Turbine;

/// <summary>
/// Typed reads of model-configuration JSON that record a problem instead of throwing, so a config is checked whole
/// and every error reported at once. Shared by the repository's reader and by backends reading their own section.
/// </summary>
public static class ConfigJson
{
    /// <summary>
    /// A backend's section: true with the object to read; false when there is none (the defaults apply) or when it is
    /// not an object (an error, and the defaults apply).
    /// </summary>
    public static bool TrySection(JsonElement? section, string name, List<string> errors, out JsonElement value)
    {
        ArgumentNullException.ThrowIfNull(errors);
        value = section ?? default;
        if (section is null)
        {
            return false;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"'{name}' must be an object");
            return false;
        }

        return true;
    }

    /// <summary>A string property, null when absent or JSON null; anything else is an error.</summary>
    public static string? String(JsonElement obj, string property, List<string> errors, string? where = null)
    {
        if (!obj.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString();
        }

        errors.Add($"'{Path(where, property)}' must be a string");
        return null;
    }

    /// <summary>A 32-bit integer property (a number or, as Triton writes 64-bit ones, a string), null when absent.</summary>
    public static int? Int(JsonElement obj, string property, List<string> errors, string? where = null)
    {
        var value = Long(obj, property, errors, where);
        if (value is null or (>= int.MinValue and <= int.MaxValue))
        {
            return (int?)value;
        }

        errors.Add($"'{Path(where, property)}' is out of range");
        return null;
    }

    /// <summary>A 64-bit integer property (a number or a string of digits), null when absent.</summary>
    public static long? Long(JsonElement obj, string property, List<string> errors, string? where = null)
    {
        if (!obj.TryGetProperty(property, out var value))
        {
            return null;
        }

        // Triton's JSON form writes 64-bit numbers as strings; accept both.
        if ((value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number)) ||
            (value.ValueKind == JsonValueKind.String && long.TryParse(value.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out number)))
        {
            return number;
        }

        errors.Add($"'{Path(where, property)}' must be an integer");
        return null;
    }

    /// <summary>A finite number property, null when absent.</summary>
    public static double? Double(JsonElement obj, string property, List<string> errors, string where)
    {
        if (!obj.TryGetProperty(property, out var value))
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) && double.IsFinite(number))
        {
            return number;
        }

        errors.Add($"'{Path(where, property)}' must be a number");
        return null;
    }

    /// <summary>A true/false property, null when absent.</summary>
    public static bool? Bool(JsonElement obj, string property, List<string> errors, string where)
    {
        if (!obj.TryGetProperty(property, out var value))
        {
            return null;
        }

        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            return value.GetBoolean();
        }

        errors.Add($"'{Path(where, property)}' must be true or false");
        return null;
    }

    /// <summary>An array of integers, null when absent.</summary>
    public static long[]? Longs(JsonElement obj, string property, List<string> errors, string where)
    {
        if (!obj.TryGetProperty(property, out var array))
        {
            return null;
        }

        if (array.ValueKind != JsonValueKind.Array)
        {
            errors.Add($"'{Path(where, property)}' must be an array of integers");
            return null;
        }

        var result = new long[array.GetArrayLength()];
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if ((item.ValueKind == JsonValueKind.Number && item.TryGetInt64(out var number)) ||
                (item.ValueKind == JsonValueKind.String && long.TryParse(item.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out number)))
            {
                result[i++] = number;
            }
            else
            {
                errors.Add($"'{Path(where, property)}[{i}]' must be an integer");
                return null;
            }
        }

        return result;
    }

    private static string Path(string? where, string property) => where is null ? property : where + "." + property;
}
