using System.Text;
using Turbine.Llm.Templates;

namespace Turbine.Llm.Serving;

/// <summary>One message of a chat, as the OpenAI API sends it (text parts joined).</summary>
/// <param name="Role">system, developer, user, assistant or tool.</param>
/// <param name="Content">The text.</param>
public sealed record ChatMessage(string Role, string Content)
{
    /// <summary>The calls an assistant message made.</summary>
    public IReadOnlyList<(string Id, Tools.ToolCall Call)> ToolCalls { get; init; } = [];

    /// <summary>The call a tool message answers.</summary>
    public string? ToolCallId { get; init; }

    /// <summary>The participant's or tool's name.</summary>
    public string? Name { get; init; }

    /// <summary>
    /// The message as chat templates read it: role and content, and the calls with their arguments as an object
    /// where they are JSON (as Hugging Face's templates expect), the call id, the name.
    /// </summary>
    internal Dictionary<string, object?> ToTemplateValue()
    {
        var value = new Dictionary<string, object?>(StringComparer.Ordinal) { ["role"] = Role, ["content"] = Content };
        if (ToolCalls.Count > 0)
        {
            value["tool_calls"] = ToolCalls.Select(c => (object?)new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["id"] = c.Id,
                ["type"] = "function",
                ["function"] = new Dictionary<string, object?>(StringComparer.Ordinal) { ["name"] = c.Call.Name, ["arguments"] = Arguments(c.Call.Arguments) },
            }).ToList();
        }

        if (ToolCallId is not null)
        {
            value["tool_call_id"] = ToolCallId;
        }

        if (Name is not null)
        {
            value["name"] = Name;
        }

        return value;
    }

    private static object? Arguments(string json)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(json, new System.Text.Json.JsonDocumentOptions { MaxDepth = 64 });
            return document.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object ? document.RootElement.Clone() : json;
        }
        catch (System.Text.Json.JsonException)
        {
            return json;
        }
    }
}

/// <summary>How a model turns chat messages into its prompt, and the text that ends its turn.</summary>
public abstract class ChatPrompt
{
    /// <summary>Strings that end the assistant's turn (never part of the answer).</summary>
    public abstract IReadOnlyList<string> TurnEnds { get; }

    /// <summary>The prompt for <paramref name="messages"/>, ending where the assistant's answer begins; null with <paramref name="problem"/> when it cannot be made.</summary>
    /// <param name="messages">The conversation.</param>
    /// <param name="tools">The tools offered (the API's tool objects), or null.</param>
    /// <param name="problem">Why no prompt could be made.</param>
    public abstract string? Render(IReadOnlyList<ChatMessage> messages, System.Text.Json.JsonElement? tools, out string? problem);

    /// <summary>The prompt format of a model: its template, or ChatML when it has none.</summary>
    /// <param name="template">The Jinja chat template, if the model has one.</param>
    /// <param name="specialTokens">The tokenizer's special tokens by name (<c>bos_token</c>, ...), which templates print.</param>
    /// <param name="time">The clock templates read today's date from.</param>
    internal static ChatPrompt For(string? template, IReadOnlyDictionary<string, string> specialTokens, TimeProvider time) =>
        template is null ? new ChatMl() : new Templated(template, specialTokens, time);

    /// <summary>
    /// ChatML (<c>&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;</c>), the format of models whose tokenizer carries no template of
    /// its own, such as the demo decoder: plain and documented, so a client can reproduce the prompt exactly.
    /// </summary>
    private sealed class ChatMl : ChatPrompt
    {
        private const string Start = "<|im_start|>";
        private const string End = "<|im_end|>";

        public override IReadOnlyList<string> TurnEnds { get; } = [End];

        public override string? Render(IReadOnlyList<ChatMessage> messages, System.Text.Json.JsonElement? tools, out string? problem)
        {
            problem = null;
            if (tools is not null || messages.Any(m => m.ToolCalls.Count > 0 || m.Role == "tool"))
            {
                problem = "this model has no chat template, so it cannot be offered tools (ChatML has no tool format)";
                return null;
            }

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
        private readonly TimeProvider _time;

        public Templated(string template, IReadOnlyDictionary<string, string> specialTokens, TimeProvider time)
        {
            _specialTokens = specialTokens;
            _time = time;
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

        public override string? Render(IReadOnlyList<ChatMessage> messages, System.Text.Json.JsonElement? tools, out string? problem)
        {
            problem = _problem;
            if (_template is null)
            {
                return null;
            }

            var variables = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["messages"] = messages.Select(m => (object?)m.ToTemplateValue()).ToList(),
                ["add_generation_prompt"] = true,
            };
            if (tools is { } offered)
            {
                variables["tools"] = offered;
            }

            foreach (var (name, text) in _specialTokens)
            {
                variables[name] = text;
            }

            try
            {
                return _template.Render(variables, _time);
            }
            catch (TemplateException e)
            {
                problem = e.Message; // raise_exception in the template: the messages break one of its rules
                return null;
            }
        }
    }
}
