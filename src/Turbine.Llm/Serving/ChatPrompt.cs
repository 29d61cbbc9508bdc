using System.Text;
using Turbine.Llm.Templates;

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
    /// <param name="template">The Jinja chat template, if the model has one.</param>
    /// <param name="specialTokens">The tokenizer's special tokens by name (<c>bos_token</c>, ...), which templates print.</param>
    internal static ChatPrompt For(string? template, IReadOnlyDictionary<string, string> specialTokens) =>
        template is null ? new ChatMl() : new Templated(template, specialTokens);

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

    /// <summary>
    /// The model's own Jinja template (<c>tokenizer_config.json</c>'s <c>chat_template</c>), rendered as Hugging Face's
    /// <c>apply_chat_template</c> does with <c>add_generation_prompt</c>. A template this renderer cannot parse fails the
    /// chat requests with the reason; completions are unaffected.
    /// </summary>
    private sealed class Templated : ChatPrompt
    {
        private readonly ChatTemplate? _template;
        private readonly string? _problem;
        private readonly IReadOnlyDictionary<string, string> _specialTokens;

        public Templated(string template, IReadOnlyDictionary<string, string> specialTokens)
        {
            _specialTokens = specialTokens;
            try
            {
                _template = ChatTemplate.Parse(template);
            }
            catch (TemplateException e)
            {
                _problem = $"this model's chat template cannot be parsed: {e.Message}";
            }
        }

        public override IReadOnlyList<string> TurnEnds => []; // the model's end-of-text tokens end its turn

        public override string? Render(IReadOnlyList<ChatMessage> messages, out string? problem)
        {
            problem = _problem;
            if (_template is null)
            {
                return null;
            }

            var variables = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["messages"] = messages.Select(m => (object?)new Dictionary<string, object?>(StringComparer.Ordinal) { ["role"] = m.Role, ["content"] = m.Content }).ToList(),
                ["add_generation_prompt"] = true,
            };
            foreach (var (name, text) in _specialTokens)
            {
                variables[name] = text;
            }

            try
            {
                return _template.Render(variables);
            }
            catch (TemplateException e)
            {
                problem = e.Message; // raise_exception in the template: the messages break one of its rules
                return null;
            }
        }
    }
}
