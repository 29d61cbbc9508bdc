using System.Globalization;
using System.Text.Json;

namespace Turbine.Llm.Serving;

/// <summary>
/// A generative model's engine settings: the <c>llm</c> section of its configuration. Each has a default, so a folder
/// holding an exported decoder and its tokenizer serves without a configuration file.
/// </summary>
public sealed record LlmSettings : BackendSettings
{
    private const string Section = "llm";

    /// <summary>The settings of a configuration without an <c>llm</c> section.</summary>
    public static LlmSettings Default { get; } = new();

    /// <summary>Tokens a sequence may hold, prompt and output together; 0 takes the model's own (its config.json, else its tokenizer's), else 2048.</summary>
    public int MaxContext { get; init; }

    /// <summary>Bytes of the KV cache, allocated once at load; requests are admitted while it can hold them.</summary>
    public long KvCacheBytes { get; init; } = 256L << 20;

    /// <summary>Tokens per cache block, the unit of allocation and of prefix sharing.</summary>
    public int BlockTokens { get; init; } = 16;

    /// <summary>Sequences decoded together in one step at most.</summary>
    public int MaxSequences { get; init; } = 32;

    /// <summary>A chat template that replaces the tokenizer's own (Jinja text, as <c>tokenizer_config.json</c> holds it).</summary>
    public string? ChatTemplate { get; init; }

    /// <summary>The decoder's tensor names (<c>llm.tensors</c>): the Optimum layout's unless the model names others.</summary>
    public DecoderTensorNames Tensors { get; init; } = DecoderTensorNames.Optimum;

    /// <summary>How tool calls are read from answers: hermes, llama3_json, mistral, none, or auto (from the chat template's markers).</summary>
    public string ToolCallParser { get; init; } = "auto";

    /// <summary>The settings of a model configuration (the defaults when it has none).</summary>
    public static LlmSettings Of(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.Settings as LlmSettings ?? Default;
    }

    /// <summary>Reads and validates the <c>llm</c> section; every problem goes to <paramref name="errors"/>.</summary>
    public static LlmSettings Read(JsonElement? section, List<string> errors)
    {
        if (!ConfigJson.TrySection(section, "llm", errors, out var value))
        {
            return Default;
        }

        var settings = new LlmSettings
        {
            MaxContext = ConfigJson.Int(value, "max_context", errors, Section) ?? 0,
            KvCacheBytes = ConfigJson.Long(value, "kv_cache_bytes", errors, Section) ?? Default.KvCacheBytes,
            BlockTokens = ConfigJson.Int(value, "block_tokens", errors, Section) ?? Default.BlockTokens,
            MaxSequences = ConfigJson.Int(value, "max_sequences", errors, Section) ?? Default.MaxSequences,
            ChatTemplate = ConfigJson.String(value, "chat_template", errors, Section),
            ToolCallParser = ConfigJson.String(value, "tool_call_parser", errors, Section) ?? Default.ToolCallParser,
            Tensors = value.TryGetProperty("tensors", out var tensors) ? ReadTensors(tensors, errors) : DecoderTensorNames.Optimum,
        };
        if (settings.ToolCallParser is not ("auto" or "none" or "hermes" or "llama3_json" or "mistral"))
        {
            errors.Add($"'llm.tool_call_parser' must be auto, none, hermes, llama3_json or mistral, not '{ClientText.Quote(settings.ToolCallParser)}'");
        }

        if (settings.MaxContext is < 0 or > 1 << 20)
        {
            errors.Add("'llm.max_context' must be between 0 (from the tokenizer) and 1048576");
        }

        if (settings.KvCacheBytes is < 1 << 20 or > 1L << 40)
        {
            errors.Add("'llm.kv_cache_bytes' must be between 1 MiB and 1 TiB");
        }

        if (settings.BlockTokens is < 1 or > 1024)
        {
            errors.Add("'llm.block_tokens' must be between 1 and 1024");
        }

        if (settings.MaxSequences is < 1 or > 1024)
        {
            errors.Add("'llm.max_sequences' must be between 1 and 1024");
        }

        return settings;
    }

    /// <summary>
    /// <c>llm.tensors</c>: any of input_ids, attention_mask, position_ids, logits, and the per-layer past_key,
    /// past_value, present_key, present_value, which must hold <c>{layer}</c>.
    /// </summary>
    private static DecoderTensorNames ReadTensors(JsonElement section, List<string> errors)
    {
        const string Where = "llm.tensors";
        if (section.ValueKind != JsonValueKind.Object)
        {
            errors.Add("'llm.tensors' must be an object of tensor names");
            return DecoderTensorNames.Optimum;
        }

        var o = DecoderTensorNames.Optimum;
        var names = new DecoderTensorNames
        {
            InputIds = ConfigJson.String(section, "input_ids", errors, Where) ?? o.InputIds,
            AttentionMask = ConfigJson.String(section, "attention_mask", errors, Where) ?? o.AttentionMask,
            PositionIds = ConfigJson.String(section, "position_ids", errors, Where) ?? o.PositionIds,
            Logits = ConfigJson.String(section, "logits", errors, Where) ?? o.Logits,
            PastKey = ConfigJson.String(section, "past_key", errors, Where) ?? o.PastKey,
            PastValue = ConfigJson.String(section, "past_value", errors, Where) ?? o.PastValue,
            PresentKey = ConfigJson.String(section, "present_key", errors, Where) ?? o.PresentKey,
            PresentValue = ConfigJson.String(section, "present_value", errors, Where) ?? o.PresentValue,
        };
        foreach (var (key, pattern) in (ReadOnlySpan<(string, string)>)[("past_key", names.PastKey), ("past_value", names.PastValue), ("present_key", names.PresentKey), ("present_value", names.PresentValue)])
        {
            if (!pattern.Contains("{layer}", StringComparison.Ordinal))
            {
                errors.Add($"'llm.tensors.{key}' must hold {{layer}} where the layer's number goes, as in 'past_key_values.{{layer}}.key'");
            }
        }

        return names;
    }

    /// <inheritdoc />
    public override IReadOnlyList<KeyValuePair<string, string>> Parameters() =>
    [
        new("max_context", MaxContext.ToString(CultureInfo.InvariantCulture)),
        new("kv_cache_bytes", KvCacheBytes.ToString(CultureInfo.InvariantCulture)),
        new("block_tokens", BlockTokens.ToString(CultureInfo.InvariantCulture)),
        new("max_sequences", MaxSequences.ToString(CultureInfo.InvariantCulture)),
    ];

    /// <inheritdoc />
    public override void WriteProperties(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteNumber("max_context"u8, MaxContext);
        writer.WriteNumber("kv_cache_bytes"u8, KvCacheBytes);
        writer.WriteNumber("block_tokens"u8, BlockTokens);
        writer.WriteNumber("max_sequences"u8, MaxSequences);
        writer.WriteString("tool_call_parser"u8, ToolCallParser);
        if (ChatTemplate is not null)
        {
            writer.WriteString("chat_template"u8, ChatTemplate);
        }
    }
}
