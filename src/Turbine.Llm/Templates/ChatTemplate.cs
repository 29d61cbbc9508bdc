namespace Turbine.Llm.Templates;

/// <summary>
/// A chat template as Hugging Face tokenizers carry it (<c>chat_template</c> in <c>tokenizer_config.json</c>), parsed
/// once and rendered per request with the variables <c>apply_chat_template</c> passes: <c>messages</c>, <c>tools</c>,
/// <c>add_generation_prompt</c>, the special tokens (<c>bos_token</c>, <c>eos_token</c>, ...), and any extra ones.
/// </summary>
public sealed class ChatTemplate
{
    private readonly IReadOnlyList<Statement> _program;

    private ChatTemplate(IReadOnlyList<Statement> program) => _program = program;

    /// <summary>Parses a template.</summary>
    /// <exception cref="TemplateException">It uses syntax this renderer does not know, or is malformed.</exception>
    public static ChatTemplate Parse(string template)
    {
        ArgumentNullException.ThrowIfNull(template);
        return new ChatTemplate(TemplateParser.Parse(template));
    }

    /// <summary>
    /// Renders the template with <paramref name="variables"/> (values: null, bool, numbers, strings, lists,
    /// string-keyed dictionaries, or parsed JSON).
    /// </summary>
    /// <param name="variables">The template's variables.</param>
    /// <param name="time">The clock <c>strftime_now</c> reads (the system's when null).</param>
    /// <exception cref="TemplateException">The template failed (an unsupported filter, <c>raise_exception</c>, a type error).</exception>
    public string Render(IReadOnlyDictionary<string, object?> variables, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(variables);
        var globals = new Scope(null);
        globals.Set("strftime_now", TemplateBuiltins.StrftimeNow(time ?? TimeProvider.System));
        foreach (var (name, value) in variables)
        {
            globals.Set(name, TemplateValues.From(value));
        }

        return new TemplateRenderer().Render(_program, globals);
    }
}
