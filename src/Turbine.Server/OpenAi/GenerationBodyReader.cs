using System.Text.Json;
using Turbine.Llm.Sampling;
using Turbine.Llm.Serving;

namespace Turbine.Server.OpenAi;

/// <summary>
/// Reads the body of <c>/v1/completions</c> and <c>/v1/chat/completions</c>, checking each field as the OpenAI API
/// does and naming the one at fault. Fields Turbine does not act on (<c>user</c>, <c>logit_bias</c>, ...) are ignored,
/// as vLLM ignores them; fields whose meaning it cannot honour yet are refused rather than silently dropped.
/// </summary>
internal static class GenerationBodyReader
{
    private static readonly HashSet<string> Roles = new(["system", "developer", "user", "assistant", "tool"], StringComparer.Ordinal);

    public static GenerationBody? Read(ReadOnlySpan<byte> json, bool chat, out OpenAiError? error)
    {
        error = null;
        try
        {
            using var document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 64 });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = OpenAiError.Invalid("the request body must be a JSON object");
                return null;
            }

            return ReadObject(root, chat);
        }
        catch (JsonException)
        {
            error = OpenAiError.Invalid("the request body is not valid JSON");
        }
        catch (BodyException e)
        {
            error = OpenAiError.Invalid(e.Message, e.Param);
        }

        return null;
    }

    private static GenerationBody ReadObject(JsonElement root, bool chat)
    {
        var model = String(root, "model") ?? throw new BodyException("'model' is required", "model");
        var stream = Bool(root, "stream") ?? false;
        var includeUsage = false;
        if (root.TryGetProperty("stream_options", out var options) && options.ValueKind != JsonValueKind.Null)
        {
            if (!stream)
            {
                throw new BodyException("'stream_options' is only allowed when 'stream' is true", "stream_options");
            }

            includeUsage = options.ValueKind == JsonValueKind.Object && (Bool(options, "include_usage") ?? false);
        }

        var (tools, forcedCall) = chat ? Tools(root) : (null, null);
        if (!chat)
        {
            Refuse(root, "tools", "tool calling is a chat feature");
        }

        Refuse(root, "functions", "the deprecated function calling; use 'tools'");
        var (logprobs, topLogprobs) = Logprobs(root, chat);
        var structured = ResponseFormat(root);

        var maxTokens = Int(root, chat && root.TryGetProperty("max_completion_tokens", out _) ? "max_completion_tokens" : "max_tokens");
        if (maxTokens is < 1)
        {
            throw new BodyException($"'max_tokens' must be at least 1, got {maxTokens}", "max_tokens");
        }

        var n = Int(root, "n") ?? 1;
        if (n is < 1 or > 128)
        {
            throw new BodyException($"'n' must be between 1 and 128, got {n}", "n");
        }

        var sampling = new SamplingParameters(
            Temperature: Float(root, "temperature") ?? 1,
            TopP: Float(root, "top_p") ?? 1,
            TopK: Int(root, "top_k") is { } k && k > 0 ? k : 0, // vLLM's extension; -1 and 0 mean all
            MinP: Float(root, "min_p") ?? 0,
            RepetitionPenalty: Float(root, "repetition_penalty") ?? 1,
            PresencePenalty: Float(root, "presence_penalty") ?? 0,
            FrequencyPenalty: Float(root, "frequency_penalty") ?? 0,
            Seed: Long(root, "seed"),
            TopLogprobs: topLogprobs,
            Logprobs: logprobs);
        if (sampling.Check() is [var first, ..])
        {
            throw new BodyException(first, first.Split('\'') is [_, var param, ..] ? param : null);
        }

        return new GenerationBody
        {
            Model = model,
            Messages = chat ? Messages(root) : null,
            Tools = tools,
            ForcedCall = forcedCall,
            Prompts = chat ? [] : Prompts(root),
            Stream = stream,
            IncludeUsage = includeUsage,
            N = n,
            MaxTokens = maxTokens,
            Stop = Stops(root),
            StopTokens = StopTokens(root),
            Sampling = sampling,
            Echo = !chat && (Bool(root, "echo") ?? false),
            Structured = structured,
        };
    }

    private static List<ChatMessage> Messages(JsonElement root)
    {
        if (!root.TryGetProperty("messages", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            throw new BodyException("'messages' is required and must be an array", "messages");
        }

        var messages = new List<ChatMessage>();
        foreach (var message in list.EnumerateArray())
        {
            var where = $"messages[{messages.Count}]";
            if (message.ValueKind != JsonValueKind.Object)
            {
                throw new BodyException($"'{where}' must be an object", "messages");
            }

            var role = String(message, "role") ?? throw new BodyException($"'{where}.role' is required", "messages");
            if (!Roles.Contains(role))
            {
                throw new BodyException($"'{where}.role' must be one of system, developer, user, assistant or tool, got '{ClientText.Quote(role)}'", "messages");
            }

            messages.Add(new ChatMessage(role, Content(message, where))
            {
                ToolCalls = role == "assistant" ? ToolCalls(message, where) : [],
                ToolCallId = role == "tool" ? String(message, "tool_call_id") : null,
                Name = String(message, "name"),
            });
        }

        if (messages.Count == 0)
        {
            throw new BodyException("'messages' must hold at least one message", "messages");
        }

        return messages;
    }

    /// <summary>
    /// <c>tools</c> with <c>tool_choice</c>: the function tools offered, when the model may call them (<c>auto</c>, the
    /// default when tools are given); <c>none</c> offers none; <c>required</c> makes the answer a call of one of them,
    /// a named function a call of that one (with its parameters' schema).
    /// </summary>
    private static (JsonElement? Tools, ForcedCall? Forced) Tools(JsonElement root)
    {
        if (!root.TryGetProperty("tools", out var tools) || tools.ValueKind == JsonValueKind.Null || (tools.ValueKind == JsonValueKind.Array && tools.GetArrayLength() == 0))
        {
            return root.TryGetProperty("tool_choice", out var orphan) && orphan.ValueKind is JsonValueKind.Object || (orphan.ValueKind == JsonValueKind.String && orphan.GetString() == "required")
                ? throw new BodyException("'tool_choice' asks for a call but no 'tools' are given", "tool_choice")
                : (null, null);
        }

        if (tools.ValueKind != JsonValueKind.Array || tools.GetArrayLength() > 128)
        {
            throw new BodyException("'tools' must be an array of at most 128 tools", "tools");
        }

        foreach (var tool in tools.EnumerateArray())
        {
            if (tool.ValueKind != JsonValueKind.Object || String(tool, "type") != "function" || !tool.TryGetProperty("function", out var function)
                || function.ValueKind != JsonValueKind.Object || String(function, "name") is not { Length: > 0 }
                || (function.TryGetProperty("parameters", out var parameters) && parameters.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null)))
            {
                throw new BodyException("each tool must be {\"type\": \"function\", \"function\": {\"name\", \"description\", \"parameters\"}}", "tools");
            }
        }

        var functions = tools.EnumerateArray().Select(t => t.GetProperty("function")).ToList();
        var choice = root.TryGetProperty("tool_choice", out var given) && given.ValueKind != JsonValueKind.Null ? given : default;
        switch (choice.ValueKind)
        {
            case JsonValueKind.Undefined:
            case JsonValueKind.String when choice.GetString() == "auto":
                return (tools.Clone(), null);
            case JsonValueKind.String when choice.GetString() == "none":
                return (null, null);
            case JsonValueKind.String when choice.GetString() == "required":
                return (tools.Clone(), new ForcedCall([.. functions.Select(f => f.GetProperty("name").GetString()!)], functions.Count == 1 ? Parameters(functions[0]) : null));
            case JsonValueKind.Object when choice.TryGetProperty("function", out var named) && named.ValueKind == JsonValueKind.Object && String(named, "name") is { } name:
            {
                var function = functions.FirstOrDefault(f => f.GetProperty("name").GetString() == name);
                if (function.ValueKind != JsonValueKind.Object)
                {
                    throw new BodyException($"'tool_choice' names '{ClientText.Quote(name)}', which is not among the tools", "tool_choice");
                }

                return (tools.Clone(), new ForcedCall([name], Parameters(function)));
            }
            default:
                throw new BodyException("'tool_choice' must be none, auto, required or {\"type\": \"function\", \"function\": {\"name\"}}", "tool_choice");
        }
    }

    /// <summary>A function's parameters' schema, checked to be enforceable (a forced call is held to it).</summary>
    private static JsonElement? Parameters(JsonElement function)
    {
        if (!function.TryGetProperty("parameters", out var parameters) || parameters.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        try
        {
            Llm.Constraints.JsonConstraint.Check(parameters);
        }
        catch (Llm.Constraints.JsonSchemaException e)
        {
            throw new BodyException($"the parameters of '{function.GetProperty("name").GetString()}' cannot be enforced for a forced call: {e.Message}", "tools");
        }

        return parameters.Clone();
    }

    /// <summary>An assistant message's <c>tool_calls</c>: id, and the function's name and arguments (JSON text).</summary>
    private static List<(string, Llm.Tools.ToolCall)> ToolCalls(JsonElement message, string where)
    {
        if (!message.TryGetProperty("tool_calls", out var calls) || calls.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        var result = new List<(string, Llm.Tools.ToolCall)>();
        foreach (var call in calls.ValueKind == JsonValueKind.Array ? calls.EnumerateArray() : throw new BodyException($"'{where}.tool_calls' must be an array", "messages"))
        {
            if (call.ValueKind != JsonValueKind.Object || !call.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object
                || String(function, "name") is not { } name)
            {
                throw new BodyException($"each of '{where}.tool_calls' needs a function with a name", "messages");
            }

            result.Add((String(call, "id") ?? string.Empty, new Llm.Tools.ToolCall(name, String(function, "arguments") ?? "{}")));
        }

        return result;
    }

    /// <summary>A message's text: a string, or the text parts of a content array joined.</summary>
    private static string Content(JsonElement message, string where)
    {
        if (!message.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
        {
            return string.Empty;
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString()!;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            throw new BodyException($"'{where}.content' must be a string or an array of content parts", "messages");
        }

        var text = new System.Text.StringBuilder();
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || String(part, "type") is not ("text" or "input_text") || String(part, "text") is not { } value)
            {
                throw new BodyException($"'{where}.content' may hold only text parts: this server serves text models", "messages");
            }

            text.Append(value);
        }

        return text.ToString();
    }

    private static List<Prompt> Prompts(JsonElement root)
    {
        if (!root.TryGetProperty("prompt", out var prompt) || prompt.ValueKind == JsonValueKind.Null)
        {
            throw new BodyException("'prompt' is required", "prompt");
        }

        if (prompt.ValueKind == JsonValueKind.String)
        {
            return [new Prompt(prompt.GetString(), null)];
        }

        if (prompt.ValueKind != JsonValueKind.Array || prompt.GetArrayLength() == 0)
        {
            throw new BodyException("'prompt' must be a string, an array of strings, an array of token ids, or an array of those; not empty", "prompt");
        }

        if (prompt[0].ValueKind == JsonValueKind.Number)
        {
            return [new Prompt(null, Tokens(prompt))];
        }

        var prompts = new List<Prompt>();
        foreach (var item in prompt.EnumerateArray())
        {
            prompts.Add(item.ValueKind switch
            {
                JsonValueKind.String => new Prompt(item.GetString(), null),
                JsonValueKind.Array when item.GetArrayLength() > 0 => new Prompt(null, Tokens(item)),
                _ => throw new BodyException("each prompt must be a string or a non-empty array of token ids", "prompt"),
            });
        }

        return prompts;
    }

    private static List<int> Tokens(JsonElement array)
    {
        var tokens = new List<int>();
        foreach (var token in array.EnumerateArray())
        {
            if (token.ValueKind != JsonValueKind.Number || !token.TryGetInt32(out var id) || id < 0)
            {
                throw new BodyException("token ids must be non-negative integers", "prompt");
            }

            tokens.Add(id);
        }

        return tokens;
    }

    private static List<string> Stops(JsonElement root)
    {
        if (!root.TryGetProperty("stop", out var stop) || stop.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (stop.ValueKind == JsonValueKind.String)
        {
            return stop.GetString() is { Length: > 0 } one ? [one] : [];
        }

        if (stop.ValueKind != JsonValueKind.Array || stop.GetArrayLength() > 4 || stop.EnumerateArray().Any(s => s.ValueKind != JsonValueKind.String || s.GetString()!.Length == 0))
        {
            throw new BodyException("'stop' must be a string or an array of at most 4 non-empty strings", "stop");
        }

        return [.. stop.EnumerateArray().Select(s => s.GetString()!)];
    }

    /// <summary>vLLM's <c>stop_token_ids</c>: token ids that end the text, at most 64, none negative.</summary>
    private static HashSet<int> StopTokens(JsonElement root)
    {
        if (!root.TryGetProperty("stop_token_ids", out var ids) || ids.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (ids.ValueKind != JsonValueKind.Array || ids.GetArrayLength() > 64 || ids.EnumerateArray().Any(i => i.ValueKind != JsonValueKind.Number || !i.TryGetInt32(out var id) || id < 0))
        {
            throw new BodyException("'stop_token_ids' must be an array of at most 64 non-negative token ids", "stop_token_ids");
        }

        return [.. ids.EnumerateArray().Select(i => i.GetInt32())];
    }

    /// <summary>
    /// <c>response_format</c>: <c>text</c> (the default), <c>json_object</c> (any JSON object) or <c>json_schema</c> (JSON
    /// matching <c>json_schema.schema</c>); a schema that cannot be enforced is refused, never loosened.
    /// </summary>
    private static StructuredOutput? ResponseFormat(JsonElement root)
    {
        if (!root.TryGetProperty("response_format", out var format) || format.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        var type = format.ValueKind == JsonValueKind.Object ? String(format, "type") : null;
        switch (type)
        {
            case "text":
                return null;
            case "json_object":
                return new StructuredOutput(null);
            case "json_schema":
                if (!format.TryGetProperty("json_schema", out var wrapper) || wrapper.ValueKind != JsonValueKind.Object
                    || !wrapper.TryGetProperty("schema", out var schema) || schema.ValueKind is not (JsonValueKind.Object or JsonValueKind.True))
                {
                    throw new BodyException("'response_format.json_schema.schema' must be a JSON schema (an object)", "response_format");
                }

                try
                {
                    Llm.Constraints.JsonConstraint.Check(schema);
                }
                catch (Llm.Constraints.JsonSchemaException e)
                {
                    throw new BodyException($"'response_format.json_schema.schema' cannot be enforced: {e.Message}", "response_format");
                }

                return new StructuredOutput(schema.Clone());
            default:
                throw new BodyException("'response_format.type' must be text, json_object or json_schema", "response_format");
        }
    }

    /// <summary>
    /// Chat: <c>logprobs</c> (a flag) and <c>top_logprobs</c> (0 to 20, with the flag on); completions: <c>logprobs</c>
    /// (0 to 5 alternatives, which also turns the chosen token's on).
    /// </summary>
    private static (bool Logprobs, int TopLogprobs) Logprobs(JsonElement root, bool chat)
    {
        if (!chat)
        {
            return Int(root, "logprobs") switch
            {
                null => (false, 0),
                >= 0 and <= 5 and var count => (true, count),
                var count => throw new BodyException($"'logprobs' must be between 0 and 5, got {count}", "logprobs"),
            };
        }

        var flag = Bool(root, "logprobs") ?? false;
        var top = Int(root, "top_logprobs") ?? 0;
        if (top is < 0 or > 20)
        {
            throw new BodyException($"'top_logprobs' must be between 0 and 20, got {top}", "top_logprobs");
        }

        if (top > 0 && !flag)
        {
            throw new BodyException("'top_logprobs' needs 'logprobs' set to true", "top_logprobs");
        }

        return (flag, top);
    }

    private static void Refuse(JsonElement root, string name, string what)
    {
        if (root.TryGetProperty(name, out var value) && value.ValueKind is not JsonValueKind.Null && !(value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 0))
        {
            throw new BodyException($"'{name}' ({what}) is not served by this build yet", name);
        }
    }

    private static string? String(JsonElement obj, string name) =>
        !obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : throw new BodyException($"'{name}' must be a string", name);

    private static bool? Bool(JsonElement obj, string name) =>
        !obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean()
        : throw new BodyException($"'{name}' must be a boolean", name);

    private static int? Int(JsonElement obj, string name) =>
        !obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) ? number
        : throw new BodyException($"'{name}' must be an integer", name);

    private static long? Long(JsonElement obj, string name) =>
        !obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) ? number
        : throw new BodyException($"'{name}' must be an integer", name);

    private static float? Float(JsonElement obj, string name) =>
        !obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.Number ? value.GetSingle()
        : throw new BodyException($"'{name}' must be a number", name);

    /// <summary>A field at fault, carried out of the nested reads to the one place that turns it into the error object.</summary>
    private sealed class BodyException(string message, string? param) : Exception(message)
    {
        public string? Param { get; } = param;
    }
}
