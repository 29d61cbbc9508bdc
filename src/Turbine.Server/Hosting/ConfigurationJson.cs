using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace Turbine.Server.Hosting;

/// <summary>
/// Turns a configuration section back into JSON, so that routes and pipelines declared in appsettings.json or
/// <c>TURBINE__ROUTES__...</c> variables are read by the same code as the API's bodies. Configuration keeps only
/// strings: children keyed 0, 1, 2... become arrays, <c>true</c>/<c>false</c> booleans, numbers numbers, except
/// under <c>model</c> and <c>name</c>, which are always names.
/// </summary>
internal static class ConfigurationJson
{
    private static readonly HashSet<string> TextKeys = new(["model", "name"], StringComparer.OrdinalIgnoreCase);

    public static byte[] ToJson(IConfigurationSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            Write(writer, section);
        }

        return stream.ToArray();
    }

    private static void Write(Utf8JsonWriter writer, IConfigurationSection section)
    {
        var children = section.GetChildren().ToList();
        if (children.Count == 0)
        {
            WriteValue(writer, section.Key, section.Value);
            return;
        }

        var indices = children.Select(c => int.TryParse(c.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : -1).ToList();
        if (indices.Order().SequenceEqual(Enumerable.Range(0, children.Count)))
        {
            writer.WriteStartArray();
            foreach (var child in children.OrderBy(c => int.Parse(c.Key, CultureInfo.InvariantCulture)))
            {
                Write(writer, child);
            }

            writer.WriteEndArray();
            return;
        }

        writer.WriteStartObject();
        foreach (var child in children)
        {
            writer.WritePropertyName(child.Key);
            Write(writer, child);
        }

        writer.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter writer, string key, string? value)
    {
        if (value is null)
        {
            writer.WriteNullValue();
        }
        else if (TextKeys.Contains(key))
        {
            writer.WriteStringValue(value);
        }
        else if (bool.TryParse(value, out var flag))
        {
            writer.WriteBooleanValue(flag);
        }
        else if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
        {
            writer.WriteNumberValue(number);
        }
        else
        {
            writer.WriteStringValue(value);
        }
    }
}
