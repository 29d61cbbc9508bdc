using System.Text.Json;
using Turbine.Llm.Sampling;

namespace Turbine.Server.OpenAi;

/// <summary>
/// The log probabilities of some of a choice's tokens, in the form each API gives them. Chat:
/// <c>{"content": [{"token", "logprob", "bytes", "top_logprobs": [...]}], "refusal": null}</c>. Completions (the
/// legacy form): <c>{"tokens", "token_logprobs", "top_logprobs": [{token: logprob}], "text_offset"}</c>, offsets
/// counted in the choice's text from <see cref="FirstOffset"/>.
/// </summary>
/// <param name="Chat">Which form.</param>
/// <param name="Tokens">The tokens, in order.</param>
/// <param name="View">A token's text and raw bytes.</param>
/// <param name="FirstOffset">Where the first token's text starts in the choice's text (completions).</param>
internal sealed record LogprobsPart(bool Chat, IReadOnlyList<SampledToken> Tokens, TokenView View, int FirstOffset)
{
    public void Write(Utf8JsonWriter writer)
    {
        if (Chat)
        {
            writer.WriteStartObject();
            writer.WriteStartArray("content"u8);
            foreach (var token in Tokens)
            {
                writer.WriteStartObject();
                WriteToken(writer, token.Token, token.Logprob);
                writer.WriteStartArray("top_logprobs"u8);
                foreach (var (alternative, logprob) in token.TopLogprobs)
                {
                    writer.WriteStartObject();
                    WriteToken(writer, alternative, logprob);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteNull("refusal"u8);
            writer.WriteEndObject();
            return;
        }

        writer.WriteStartObject();
        writer.WriteStartArray("tokens"u8);
        foreach (var token in Tokens)
        {
            writer.WriteStringValue(View.Text(token.Token));
        }

        writer.WriteEndArray();
        writer.WriteStartArray("token_logprobs"u8);
        foreach (var token in Tokens)
        {
            writer.WriteNumberValue(token.Logprob);
        }

        writer.WriteEndArray();
        writer.WriteStartArray("top_logprobs"u8);
        foreach (var token in Tokens)
        {
            writer.WriteStartObject();
            foreach (var (alternative, logprob) in token.TopLogprobs)
            {
                writer.WriteNumber(View.Text(alternative), logprob);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteStartArray("text_offset"u8);
        var offset = FirstOffset;
        foreach (var token in Tokens)
        {
            writer.WriteNumberValue(offset);
            offset += View.Text(token.Token).Length;
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>The length of these tokens' text, where the next part's offsets start.</summary>
    public int TextLength => Tokens.Sum(t => View.Text(t.Token).Length);

    private void WriteToken(Utf8JsonWriter writer, int token, float logprob)
    {
        var text = View.Text(token);
        writer.WriteString("token"u8, text);
        writer.WriteNumber("logprob"u8, logprob);
        writer.WriteStartArray("bytes"u8);
        foreach (var b in View.Bytes(token))
        {
            writer.WriteNumberValue(b);
        }

        writer.WriteEndArray();
    }
}

/// <summary>How a model shows a token: its text, and its raw bytes (which a piece of a character has, and its text has not).</summary>
internal sealed record TokenView(Func<int, string> Text, Func<int, byte[]> Bytes);
