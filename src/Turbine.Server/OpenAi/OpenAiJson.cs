using System.Text.Json;
using Turbine.Llm.Engine;

namespace Turbine.Server.OpenAi;

/// <summary>Token counts of an answer, as the <c>usage</c> object reports them.</summary>
internal readonly record struct Usage(int PromptTokens, int CompletionTokens);

/// <summary>One finished choice of a whole (not streamed) answer.</summary>
/// <param name="Text">The whole text (null for an answer that is only tool calls).</param>
/// <param name="Finish">Why it ended, as the API names it.</param>
/// <param name="Logprobs">Its tokens' log probabilities, when asked for.</param>
internal sealed record FinishedChoice(string? Text, string? Finish, LogprobsPart? Logprobs)
{
    /// <summary>The functions the answer called (chat).</summary>
    public IReadOnlyList<Llm.Tools.ToolCall> ToolCalls { get; init; } = [];
}

/// <summary>
/// The bodies of the OpenAI API's completion objects: <c>chat.completion</c> and <c>text_completion</c>, whole or as
/// streamed chunks (<c>chat.completion.chunk</c>), field for field as the API reference lists them.
/// </summary>
internal static class OpenAiJson
{
    public static void WriteWhole(Utf8JsonWriter writer, bool chat, string id, long created, string model, IReadOnlyList<FinishedChoice> choices, Usage usage)
    {
        WriteHeader(writer, id, chat ? "chat.completion" : "text_completion", created, model);
        writer.WriteStartArray("choices"u8);
        for (var index = 0; index < choices.Count; index++)
        {
            writer.WriteStartObject();
            writer.WriteNumber("index"u8, index);
            if (chat)
            {
                writer.WriteStartObject("message"u8);
                writer.WriteString("role"u8, "assistant");
                writer.WriteString("content"u8, choices[index].Text);
                writer.WriteNull("refusal"u8);
                if (choices[index].ToolCalls.Count > 0)
                {
                    writer.WritePropertyName("tool_calls"u8);
                    WriteToolCalls(writer, choices[index].ToolCalls, withIndex: false);
                }

                writer.WriteEndObject();
            }
            else
            {
                writer.WriteString("text"u8, choices[index].Text);
            }

            WriteLogprobs(writer, choices[index].Logprobs);
            WriteFinish(writer, choices[index].Finish);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        WriteUsage(writer, usage);
        writer.WriteEndObject();
    }

    /// <summary>A streamed chunk of one choice: its new text (chat: the role too, in the first), and its finish reason at the end.</summary>
    public static void WriteChunk(Utf8JsonWriter writer, bool chat, string id, long created, string model, int index, string text, bool first, string? finish, bool usageField, LogprobsPart? logprobs)
    {
        WriteHeader(writer, id, chat ? "chat.completion.chunk" : "text_completion", created, model);
        writer.WriteStartArray("choices"u8);
        writer.WriteStartObject();
        writer.WriteNumber("index"u8, index);
        if (chat)
        {
            writer.WriteStartObject("delta"u8);
            if (first)
            {
                writer.WriteString("role"u8, "assistant");
                writer.WriteNull("refusal"u8);
            }

            if (text.Length > 0 || finish is null)
            {
                writer.WriteString("content"u8, text);
            }

            writer.WriteEndObject();
        }
        else
        {
            writer.WriteString("text"u8, text);
        }

        WriteLogprobs(writer, logprobs);
        WriteFinish(writer, finish);
        writer.WriteEndObject();
        writer.WriteEndArray();
        if (usageField)
        {
            writer.WriteNull("usage"u8); // with include_usage every chunk carries the field, null until the last
        }

        writer.WriteEndObject();
    }

    /// <summary>The last chunk of a stream that asked for usage: no choices, the counts.</summary>
    public static void WriteUsageChunk(Utf8JsonWriter writer, bool chat, string id, long created, string model, Usage usage)
    {
        WriteHeader(writer, id, chat ? "chat.completion.chunk" : "text_completion", created, model);
        writer.WriteStartArray("choices"u8);
        writer.WriteEndArray();
        WriteUsage(writer, usage);
        writer.WriteEndObject();
    }

    /// <summary>The model list entry (<c>object: model</c>).</summary>
    public static void WriteModel(Utf8JsonWriter writer, string name, long created)
    {
        writer.WriteStartObject();
        writer.WriteString("id"u8, name);
        writer.WriteString("object"u8, "model");
        writer.WriteNumber("created"u8, created);
        writer.WriteString("owned_by"u8, "turbine");
        writer.WriteEndObject();
    }

    private static void WriteHeader(Utf8JsonWriter writer, string id, string kind, long created, string model)
    {
        writer.WriteStartObject();
        writer.WriteString("id"u8, id);
        writer.WriteString("object"u8, kind);
        writer.WriteNumber("created"u8, created);
        writer.WriteString("model"u8, model);
        writer.WriteNull("system_fingerprint"u8);
    }

    private static void WriteLogprobs(Utf8JsonWriter writer, LogprobsPart? logprobs)
    {
        if (logprobs is null)
        {
            writer.WriteNull("logprobs"u8);
            return;
        }

        writer.WritePropertyName("logprobs"u8);
        logprobs.Write(writer);
    }

    /// <summary>A streamed chunk carrying a choice's tool calls, each with its index among them.</summary>
    public static void WriteToolCallChunk(Utf8JsonWriter writer, string id, long created, string model, int index, IReadOnlyList<Llm.Tools.ToolCall> calls, bool usageField)
    {
        WriteHeader(writer, id, "chat.completion.chunk", created, model);
        writer.WriteStartArray("choices"u8);
        writer.WriteStartObject();
        writer.WriteNumber("index"u8, index);
        writer.WriteStartObject("delta"u8);
        writer.WritePropertyName("tool_calls"u8);
        WriteToolCalls(writer, calls, withIndex: true);
        writer.WriteEndObject();
        writer.WriteNull("logprobs"u8);
        writer.WriteNull("finish_reason"u8);
        writer.WriteEndObject();
        writer.WriteEndArray();
        if (usageField)
        {
            writer.WriteNull("usage"u8);
        }

        writer.WriteEndObject();
    }

    private static void WriteToolCalls(Utf8JsonWriter writer, IReadOnlyList<Llm.Tools.ToolCall> calls, bool withIndex)
    {
        writer.WriteStartArray();
        for (var i = 0; i < calls.Count; i++)
        {
            writer.WriteStartObject();
            if (withIndex)
            {
                writer.WriteNumber("index"u8, i);
            }

            writer.WriteString("id"u8, "call_" + Guid.NewGuid().ToString("N")[..24]);
            writer.WriteString("type"u8, "function");
            writer.WriteStartObject("function"u8);
            writer.WriteString("name"u8, calls[i].Name);
            writer.WriteString("arguments"u8, calls[i].Arguments);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static void WriteFinish(Utf8JsonWriter writer, string? finish)
    {
        if (finish is { } reason)
        {
            writer.WriteString("finish_reason"u8, reason);
        }
        else
        {
            writer.WriteNull("finish_reason"u8);
        }
    }

    private static void WriteUsage(Utf8JsonWriter writer, Usage usage)
    {
        writer.WriteStartObject("usage"u8);
        writer.WriteNumber("prompt_tokens"u8, usage.PromptTokens);
        writer.WriteNumber("completion_tokens"u8, usage.CompletionTokens);
        writer.WriteNumber("total_tokens"u8, usage.PromptTokens + usage.CompletionTokens);
        writer.WriteEndObject();
    }
}
