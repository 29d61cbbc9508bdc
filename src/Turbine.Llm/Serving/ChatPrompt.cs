using System.Text;
using Turbine.Llm.Tokenization;

namespace Turbine.Llm.Serving;

/// <summary>One message of a chat, as the OpenAI API sends it (text parts joined).</summary>
/// <param name="Role">system, developer, user, assistant or tool.</param>
/// <param name="Content">The text.</param>
public sealed record ChatMessage(string Role, string Content);

/// <summary>How a model turns chat messages into its prompt, and the text that ends its turn.</summary>
public abstract class ChatPrompt
{
    /// <summary>Strings that end the assistant's turn (never part of the answer).</summary>
    public abstract IReadOnlyList<string> TurnEnds { get; }

    /// <summary>The prompt for <paramref name="messages"/>, ending where the assistant's answer begins; null with <paramref name="problem"/> when it cannot be made.</summary>
    public abstract string? Render(IReadOnlyList<ChatMessage> messages, out string? problem);

    /// <summary>The prompt format of a model: its template, or ChatML when it has none.</summary>
    internal static ChatPrompt For(string? template, LoadedTokenizer tokenizer) =>
        template is null ? new ChatMl() : new Unrendered();

    /// <summary>
    /// ChatML (<c>&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;</c>), the format of models whose tokenizer carries no template of
    /// its own, such as the demo decoder: plain and documented, so a client can reproduce the prompt exactly.
    /// </summary>
    private sealed class ChatMl : ChatPrompt
    {
        private const string Start = "<|im_start|>";
        private const string End = "<|im_end|>";

        public override IReadOnlyList<string> TurnEnds { get; } = [End];

        public override string? Render(IReadOnlyList<ChatMessage> messages, out string? problem)
        {
            problem = null;
            var prompt = new StringBuilder();
            foreach (var message in messages)
            {
                prompt.Append(Start).Append(message.Role).Append('\n').Append(message.Content).Append(End).Append('\n');
            }

            return prompt.Append(Start).Append("assistant\n").ToString();
        }
    }

    /// <summary>A model whose tokenizer_config.json carries a Jinja chat template, which this build does not render yet.</summary>
    private sealed class Unrendered : ChatPrompt
    {
        public override IReadOnlyList<string> TurnEnds => [];

        public override string? Render(IReadOnlyList<ChatMessage> messages, out string? problem)
        {
            problem = "this model's chat template (tokenizer_config.json) is not rendered by this build yet; send the formatted prompt to /v1/completions";
            return null;
        }
    }
}
