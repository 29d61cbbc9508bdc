using System.Text.Json;
using Turbine.Llm.Engine;

namespace Turbine.Server.OpenAi;

/// <summary>Token counts of an answer, as the <c>usage</c> object reports them.</summary>
internal readonly record struct Usage(int PromptTokens, int CompletionTokens);

/// <summary>One finished choice of a whole (not streamed) answer.</summary>
/// <param name="Text">The whole text.</param>
/// <param name="Finish">Why it ended.</param>
/// <param name="Logprobs">Its tokens' log probabilities, when asked for.</param>
internal sealed record FinishedChoice(string Text, FinishReason? Finish, LogprobsPart? Logprobs);

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
    public static void WriteChunk(Utf8JsonWriter writer, bool chat, string id, long created, string model, int index, string text, bool first, FinishReason? finish, bool usageField, LogprobsPart? logprobs)
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

    private static void WriteFinish(Utf8JsonWriter writer, FinishReason? finish)
    {
        if (finish is { } reason)
        {
            writer.WriteString("finish_reason"u8, reason == FinishReason.Stop ? "stop" : "length");
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
