using System.Text.Json;

namespace Turbine.Protocols.KServe;

/// <summary>Reads and writes KServe <c>parameters</c> objects: flat maps of bool, integer, number or string.</summary>
public static class KServeParameters
{
    /// <summary>Reads the object the reader is positioned before (on its property name).</summary>
    internal static InferenceError? Read(ref Utf8JsonReader reader, out Dictionary<string, object>? parameters)
    {
        parameters = null;
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return InferenceError.Invalid("'parameters' must be an object");
        }

        var result = new Dictionary<string, object>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            reader.Read();
            object? value = reader.TokenType switch
            {
                JsonTokenType.True => true,
                JsonTokenType.False => false,
                JsonTokenType.String => reader.GetString(),
                JsonTokenType.Number when reader.TryGetInt64(out var integer) => integer,
                JsonTokenType.Number => reader.GetDouble(),
                _ => null,
            };
            if (value is null)
            {
                return InferenceError.Invalid($"parameter '{ClientText.Quote(name)}' must be a bool, number or string");
            }

            result[name] = value;
        }

        parameters = result;
        return null;
    }

    /// <summary>Writes a parameters object.</summary>
    public static void Write(Utf8JsonWriter writer, IReadOnlyDictionary<string, object> parameters)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(parameters);
        writer.WriteStartObject("parameters");
        foreach (var (name, value) in parameters)
        {
            switch (value)
            {
                case bool b: writer.WriteBoolean(name, b); break;
                case long l: writer.WriteNumber(name, l); break;
                case int i: writer.WriteNumber(name, i); break;
                case double d: writer.WriteNumber(name, d); break;
                default: writer.WriteString(name, value.ToString()); break;
            }
        }

        writer.WriteEndObject();
    }
}
