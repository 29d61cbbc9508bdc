using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Turbine.Core.Repository;

/// <summary>
/// Reads Triton's <c>config.pbtxt</c> (a ModelConfig in protobuf text format) and rewrites it as the equivalent
/// JSON, which <see cref="ModelConfigReader"/> then reads like <c>config.json</c>. Text format cannot tell a
/// repeated field written once from a single field, so the repeated fields of ModelConfig are listed here; map
/// fields (<c>key</c>/<c>value</c> entries) become JSON objects.
/// </summary>
internal static class TritonTextConfig
{
    private static readonly HashSet<string> RepeatedFields =
    [
        "input", "output", "instance_group", "dims", "shape", "preferred_batch_size", "versions", "gpus", "profile",
        "model_warmup", "batch_input", "batch_output", "secondary_devices", "execution_accelerators", "gpu_execution_accelerator",
        "cpu_execution_accelerator", "control_input", "control", "int32_false_true", "fp32_false_true", "bool_false_true", "state", "initial_state", "step", "input_map", "output_map", "model_repository_agents",
    ];

    private static readonly HashSet<string> MapFields = ["parameters", "priority_queue_policy", "inputs", "input_map", "output_map", "metric_tags", "cc_model_filenames"];

    /// <summary>The JSON form of <paramref name="text"/>; syntax errors (with their line) go to <paramref name="errors"/>.</summary>
    public static string ToJson(string text, List<string> errors)
    {
        var parser = new Parser(text);
        var stream = new MemoryStream();
        try
        {
            using var writer = new Utf8JsonWriter(stream);
            writer.WriteStartObject();
            parser.ReadFields(writer, closing: null);
            writer.WriteEndObject();
        }
        catch (FormatException e)
        {
            errors.Add($"config.pbtxt: {e.Message}");
            return "{}";
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>A recursive-descent reader of protobuf text format that writes JSON as it goes.</summary>
    private sealed class Parser(string text)
    {
        private const int MaxDepth = 32;
        private int _position;
        private int _depth;

        /// <summary>Reads fields until <paramref name="closing"/> (or the end when null), grouping repeated ones into arrays.</summary>
        public void ReadFields(Utf8JsonWriter writer, char? closing)
        {
            if (++_depth > MaxDepth)
            {
                throw Error($"nesting deeper than {MaxDepth} levels");
            }

            var fields = new List<(string Name, Action<Utf8JsonWriter> Write)>();
            while (true)
            {
                SkipSpace();
                if (closing is null ? _position >= text.Length : Peek() == closing)
                {
                    break;
                }

                if (_position >= text.Length)
                {
                    throw Error($"the file ends before the closing '{closing}'");
                }

                var name = ReadIdentifier();
                SkipSpace();
                var hasColon = Peek() == ':';
                if (hasColon)
                {
                    _position++;
                    SkipSpace();
                }

                foreach (var value in ReadValues(name, hasColon))
                {
                    fields.Add((name, value));
                }
                SkipSpace();
                if (Peek() is ',' or ';')
                {
                    _position++;
                }
            }

            if (closing is not null)
            {
                _position++;
            }

            foreach (var group in fields.GroupBy(f => f.Name))
            {
                WriteGroup(writer, group.Key, [.. group.Select(f => f.Write)]);
            }

            _depth--;
        }

        private static void WriteGroup(Utf8JsonWriter writer, string name, List<Action<Utf8JsonWriter>> values)
        {
            writer.WritePropertyName(name);
            if (MapFields.Contains(name))
            {
                writer.WriteStartObject();
                foreach (var value in values)
                {
                    value(writer); // a map entry writes its own "key": value pair
                }

                writer.WriteEndObject();
            }
            else if (RepeatedFields.Contains(name) || values.Count > 1)
            {
                writer.WriteStartArray();
                values.ForEach(value => value(writer));
                writer.WriteEndArray();
            }
            else
            {
                values[0](writer);
            }
        }

        /// <summary>One value, or each element of a list literal: <c>dims: [1, 2]</c> means the same as <c>dims: 1 dims: 2</c>.</summary>
        private List<Action<Utf8JsonWriter>> ReadValues(string name, bool hasColon)
        {
            var next = Peek();
            if (next is '{' or '<')
            {
                return [ReadMessage(name)];
            }

            // A list of messages may leave out the colon (input [ { ... } ]); a scalar may not.
            if (!hasColon && next != '[')
            {
                throw Error($"expected ':' or '{{' after '{name}'");
            }

            if (next == '[')
            {
                _position++;
                var items = new List<Action<Utf8JsonWriter>>();
                SkipSpace();
                while (Peek() != ']')
                {
                    if (_position >= text.Length)
                    {
                        throw Error("the file ends before the closing ']'");
                    }

                    items.Add(Peek() is '{' or '<' ? ReadMessage(name) : ReadScalar());
                    SkipSpace();
                    if (Peek() == ',')
                    {
                        _position++;
                        SkipSpace();
                    }
                }

                _position++;
                return items;
            }

            return [ReadScalar()];
        }

        private Action<Utf8JsonWriter> ReadMessage(string name)
        {
            var closing = text[_position] == '{' ? '}' : '>';
            _position++;
            // Written apart and parsed back, so that a map entry can be turned into "key": value once read whole.
            var buffer = new ArrayBufferWriter<byte>();
            using (var inner = new Utf8JsonWriter(buffer))
            {
                inner.WriteStartObject();
                ReadFields(inner, closing);
                inner.WriteEndObject();
            }

            using var document = JsonDocument.Parse(buffer.WrittenMemory);
            var element = document.RootElement.Clone();
            if (MapFields.Contains(name))
            {
                // A map entry is { key: K value: V }: written as "K": V inside the map's object.
                var key = element.TryGetProperty("key", out var k) ? (k.ValueKind == JsonValueKind.String ? k.GetString()! : k.GetRawText()) : "";
                var hasValue = element.TryGetProperty("value", out var v);
                var value = hasValue ? v.Clone() : default;
                return writer =>
                {
                    writer.WritePropertyName(key);
                    if (hasValue)
                    {
                        value.WriteTo(writer);
                    }
                    else
                    {
                        writer.WriteNullValue();
                    }
                };
            }

            return element.WriteTo;
        }

        private Action<Utf8JsonWriter> ReadScalar()
        {
            var next = Peek();
            if (next is '"' or '\'')
            {
                var value = ReadString();
                return writer => writer.WriteStringValue(value);
            }

            var start = _position;
            while (_position < text.Length && (char.IsLetterOrDigit(text[_position]) || text[_position] is '_' or '-' or '+' or '.'))
            {
                _position++;
            }

            var token = text[start.._position];
            if (token.Length == 0)
            {
                throw Error($"expected a value, found '{next}'");
            }

            if (token is "true" or "false" or "True" or "False")
            {
                var flag = token.Equals("true", StringComparison.OrdinalIgnoreCase);
                return writer => writer.WriteBooleanValue(flag);
            }

            if (long.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
            {
                return writer => writer.WriteNumberValue(integer);
            }

            if (double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out var real))
            {
                return writer => writer.WriteNumberValue(real);
            }

            return writer => writer.WriteStringValue(token); // an enum value such as TYPE_FP32 or KIND_CPU
        }

        private string ReadString()
        {
            var quote = text[_position++];
            var value = new StringBuilder();
            while (_position < text.Length && text[_position] != quote)
            {
                if (text[_position] == '\\' && _position + 1 < text.Length)
                {
                    _position++;
                    value.Append(text[_position] switch { 'n' => '\n', 't' => '\t', var c => c });
                }
                else
                {
                    value.Append(text[_position]);
                }

                _position++;
            }

            if (_position >= text.Length)
            {
                throw Error("a string is not closed");
            }

            _position++;
            return value.ToString();
        }

        private string ReadIdentifier()
        {
            var start = _position;
            while (_position < text.Length && (char.IsLetterOrDigit(text[_position]) || text[_position] == '_'))
            {
                _position++;
            }

            return _position > start ? text[start.._position] : throw Error($"expected a field name, found '{Peek()}'");
        }

        private char Peek() => _position < text.Length ? text[_position] : '\0';

        private void SkipSpace()
        {
            while (_position < text.Length)
            {
                if (char.IsWhiteSpace(text[_position]))
                {
                    _position++;
                }
                else if (text[_position] == '#')
                {
                    while (_position < text.Length && text[_position] != '\n')
                    {
                        _position++;
                    }
                }
                else
                {
                    return;
                }
            }
        }

        private FormatException Error(string message)
        {
            var line = 1 + text.AsSpan(0, Math.Min(_position, text.Length)).Count('\n');
            return new FormatException($"line {line}: {message}");
        }
    }
}
