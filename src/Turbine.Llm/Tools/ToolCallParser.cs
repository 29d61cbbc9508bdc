using System.Text.Json;

namespace Turbine.Llm.Tools;

/// <summary>A function call the model wrote: the function's name and its arguments as JSON text.</summary>
public sealed record ToolCall(string Name, string Arguments);

/// <summary>
/// Reads the tool calls out of a model's answer, in the format its family was trained to write (the formats vLLM's
/// tool-call parsers of the same names read): <c>hermes</c> (Qwen 2.5 and 3, Hermes: <c>&lt;tool_call&gt;{"name", "arguments"}&lt;/tool_call&gt;</c>),
/// <c>llama3_json</c> (Llama 3.1 and later: the answer is <c>{"name", "parameters"}</c>, after an optional
/// <c>&lt;|python_tag|&gt;</c>), <c>mistral</c> (<c>[TOOL_CALLS]</c> and a JSON array of <c>{"name", "arguments"}</c>).
/// Text that is not a well-formed call stays content.
/// </summary>
public abstract class ToolCallParser
{
    /// <summary>The parser of a name, or the one a chat template's own markers suggest (null when none applies).</summary>
    public static ToolCallParser? For(string? name, string? chatTemplate) => name switch
    {
        "hermes" => new Hermes(),
        "llama3_json" => new Llama3Json(),
        "mistral" => new Mistral(),
        "none" => null,
        null or "auto" => chatTemplate switch
        {
            null => null,
            _ when chatTemplate.Contains("<tool_call>", StringComparison.Ordinal) => new Hermes(),
            _ when chatTemplate.Contains("[TOOL_CALLS]", StringComparison.Ordinal) => new Mistral(),
            _ when chatTemplate.Contains("<|python_tag|>", StringComparison.Ordinal) || chatTemplate.Contains("\"parameters\"", StringComparison.Ordinal) => new Llama3Json(),
            _ => null,
        },
        _ => throw new ArgumentException($"'{name}' is not a tool-call parser (hermes, llama3_json, mistral, none, auto)", nameof(name)),
    };

    /// <summary>The parser's name.</summary>
    public abstract string Name { get; }

    /// <summary>How one call is written in this format, for answers that must be a call: the text before the call object, its arguments' key, the text after.</summary>
    public abstract (string Prefix, string ArgumentsKey, string Suffix) CallForm { get; }

    /// <summary>
    /// Where tool calls start in <paramref name="text"/> (a stream holds the text back from there); -1 when none has
    /// started, and the length of text that could still be the start of a marker is what <see cref="MayStartAt"/> says.
    /// </summary>
    public abstract int StartOf(string text);

    /// <summary>The position from which the end of <paramref name="text"/> could be the beginning of a call's marker.</summary>
    public abstract int MayStartAt(string text);

    /// <summary>The answer's content (null when only calls) and its calls.</summary>
    public (string? Content, IReadOnlyList<ToolCall> Calls) Parse(string text)
    {
        var start = StartOf(text);
        if (start < 0)
        {
            return (text, []);
        }

        var calls = ReadCalls(text[start..]);
        if (calls.Count == 0)
        {
            return (text, []); // not well-formed: it was text after all
        }

        var content = text[..start].Trim();
        return (content.Length == 0 ? null : content, calls);
    }

    /// <summary>The calls in the text from where they start; empty when it does not hold well-formed calls.</summary>
    protected abstract List<ToolCall> ReadCalls(string text);

    /// <summary>A call object: its name and arguments (an object, or a string holding one) under <paramref name="argumentsKey"/>.</summary>
    protected static ToolCall? CallOf(JsonElement call, string argumentsKey)
    {
        if (call.ValueKind != JsonValueKind.Object || !call.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String
            || !call.TryGetProperty(argumentsKey, out var arguments))
        {
            return null;
        }

        return new ToolCall(name.GetString()!, arguments.ValueKind == JsonValueKind.String ? arguments.GetString()! : arguments.GetRawText());
    }

    /// <summary>The JSON values at the start of <paramref name="text"/>, one after another (blanks and commas between them skipped).</summary>
    protected static List<JsonElement> JsonValues(string text)
    {
        var values = new List<JsonElement>();
        var bytes = System.Text.Encoding.UTF8.GetBytes(text.Trim());
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { AllowMultipleValues = true, MaxDepth = 64, AllowTrailingCommas = true });
        try
        {
            while (JsonDocument.TryParseValue(ref reader, out var document))
            {
                using (document)
                {
                    values.Add(document.RootElement.Clone());
                }
            }
        }
        catch (JsonException)
        {
            return [];
        }

        return values;
    }

    /// <summary>The longest end of <paramref name="text"/> that begins <paramref name="marker"/>, as a position.</summary>
    protected static int PartialMarker(string text, string marker)
    {
        for (var length = Math.Min(marker.Length - 1, text.Length); length > 0; length--)
        {
            if (text.AsSpan(text.Length - length).SequenceEqual(marker.AsSpan(0, length)))
            {
                return text.Length - length;
            }
        }

        return text.Length;
    }

    private sealed class Hermes : ToolCallParser
    {
        private const string Open = "<tool_call>";
        private const string Close = "</tool_call>";

        public override string Name => "hermes";

        public override (string, string, string) CallForm => (Open + "\n", "arguments", "\n" + Close);

        public override int StartOf(string text) => text.IndexOf(Open, StringComparison.Ordinal);

        public override int MayStartAt(string text) => PartialMarker(text, Open);

        protected override List<ToolCall> ReadCalls(string text)
        {
            var calls = new List<ToolCall>();
            var position = 0;
            while (text.IndexOf(Open, position, StringComparison.Ordinal) is var open and >= 0)
            {
                var close = text.IndexOf(Close, open, StringComparison.Ordinal);
                var body = close < 0 ? text[(open + Open.Length)..] : text[(open + Open.Length)..close]; // the last may be cut off by the end token
                if (JsonValues(body) is not [var value] || CallOf(value, "arguments") is not { } call)
                {
                    return [];
                }

                calls.Add(call);
                position = close < 0 ? text.Length : close + Close.Length;
            }

            return calls;
        }
    }

    private sealed class Llama3Json : ToolCallParser
    {
        private const string PythonTag = "<|python_tag|>";

        public override string Name => "llama3_json";

        public override (string, string, string) CallForm => (string.Empty, "parameters", string.Empty);

        public override int StartOf(string text)
        {
            var trimmed = text.TrimStart();
            var offset = text.Length - trimmed.Length;
            return trimmed.StartsWith(PythonTag, StringComparison.Ordinal) || trimmed.StartsWith('{') ? offset : -1;
        }

        public override int MayStartAt(string text) => text.Trim().Length == 0 || PythonTag.StartsWith(text.TrimStart(), StringComparison.Ordinal) ? 0 : text.Length;

        protected override List<ToolCall> ReadCalls(string text)
        {
            var body = text.TrimStart();
            body = body.StartsWith(PythonTag, StringComparison.Ordinal) ? body[PythonTag.Length..] : body;
            var calls = new List<ToolCall>();
            foreach (var part in body.Split(';')) // several calls are written one after another, separated by ';'
            {
                if (JsonValues(part) is not [var value] || (CallOf(value, "parameters") ?? CallOf(value, "arguments")) is not { } call)
                {
                    return [];
                }

                calls.Add(call);
            }

            return calls;
        }
    }

    private sealed class Mistral : ToolCallParser
    {
        private const string Marker = "[TOOL_CALLS]";

        public override string Name => "mistral";

        public override (string, string, string) CallForm => (Marker + "[", "arguments", "]");

        public override int StartOf(string text) => text.IndexOf(Marker, StringComparison.Ordinal);

        public override int MayStartAt(string text) => PartialMarker(text, Marker);

        protected override List<ToolCall> ReadCalls(string text)
        {
            if (JsonValues(text[Marker.Length..]) is not [{ ValueKind: JsonValueKind.Array } array])
            {
                return [];
            }

            var calls = new List<ToolCall>();
            foreach (var item in array.EnumerateArray())
            {
                if (CallOf(item, "arguments") is not { } call)
                {
                    return [];
                }

                calls.Add(call);
            }

            return calls;
        }
    }
}
