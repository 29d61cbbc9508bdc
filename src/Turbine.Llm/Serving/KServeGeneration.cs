using System.Globalization;
using Turbine.Llm.Engine;
using Turbine.Llm.Sampling;

namespace Turbine.Llm.Serving;

/// <summary>
/// How a generative model looks through the KServe v2 protocol, as Triton's LLM backends present one: a BYTES input
/// <c>text_input</c> and a BYTES output <c>text_output</c>, with the sampling settings as request parameters
/// (<c>max_tokens</c>, <c>temperature</c>, <c>top_p</c>, <c>top_k</c>, <c>min_p</c>, the penalties, <c>seed</c>,
/// <c>stop</c>) and <c>exclude_input_in_output</c> (false by default: the output begins with the prompt, as Triton's
/// vLLM backend answers).
/// </summary>
public static class KServeGeneration
{
    /// <summary>The prompt's input.</summary>
    public const string TextInput = "text_input";

    /// <summary>The generated text's output.</summary>
    public const string TextOutput = "text_output";

    /// <summary>Tokens generated when a request names no <c>max_tokens</c>.</summary>
    public const int DefaultMaxTokens = 16;

    /// <summary>What the model declares to KServe clients.</summary>
    public static ModelSignature Signature { get; } = new(
        [new TensorSignature(TextInput, DataType.Bytes, [1])],
        [new TensorSignature(TextOutput, DataType.Bytes, [1])]);

    /// <summary>The options of a request's parameters; null with <paramref name="error"/> naming the parameter at fault.</summary>
    public static TextOptions? Options(IReadOnlyDictionary<string, object>? parameters, out bool excludeInput, out string? error)
    {
        excludeInput = false;
        error = null;
        var values = parameters ?? new Dictionary<string, object>();
        try
        {
            var sampling = new SamplingParameters(
                Temperature: Float(values, "temperature") ?? 1,
                TopP: Float(values, "top_p") ?? 1,
                TopK: Int(values, "top_k") ?? 0,
                MinP: Float(values, "min_p") ?? 0,
                RepetitionPenalty: Float(values, "repetition_penalty") ?? 1,
                PresencePenalty: Float(values, "presence_penalty") ?? 0,
                FrequencyPenalty: Float(values, "frequency_penalty") ?? 0,
                Seed: values.TryGetValue("seed", out var seed) ? Convert.ToInt64(seed, CultureInfo.InvariantCulture) : null);
            var problems = sampling.Check();
            var maxTokens = Int(values, "max_tokens") ?? DefaultMaxTokens;
            if (maxTokens < 1)
            {
                problems = [.. problems, $"'max_tokens' must be at least 1, got {maxTokens}"];
            }

            if (problems.Count > 0)
            {
                error = string.Join("; ", problems);
                return null;
            }

            excludeInput = values.TryGetValue("exclude_input_in_output", out var exclude) && exclude is true;
            var stop = values.TryGetValue("stop", out var text) && text is string { Length: > 0 } s ? new[] { s } : [];
            return new TextOptions(maxTokens, stop, sampling);
        }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException)
        {
            error = "a sampling parameter has a value of the wrong type (numbers for the settings, a string for 'stop')";
            return null;
        }
    }

    private static float? Float(IReadOnlyDictionary<string, object> values, string name) =>
        values.TryGetValue(name, out var value) ? Convert.ToSingle(value is string ? throw new FormatException() : value, CultureInfo.InvariantCulture) : null;

    private static int? Int(IReadOnlyDictionary<string, object> values, string name) =>
        values.TryGetValue(name, out var value) ? value is long l ? checked((int)l) : throw new FormatException() : null;
}
