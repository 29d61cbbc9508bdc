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

    /// <summary>Sampling settings as one JSON object, the optional input Triton's vLLM backend takes them in.</summary>
    public const string SamplingParametersInput = "sampling_parameters";

    /// <summary>Whether the answer leaves out the prompt (optional BOOL input, or the parameter of that name).</summary>
    public const string ExcludeInputInOutput = "exclude_input_in_output";

    /// <summary>Streaming, as Triton's vLLM backend asks for it (optional BOOL input); only generate_stream streams.</summary>
    public const string StreamInput = "stream";

    /// <summary>The prompt's tokens (Triton's vLLM backend's <c>num_input_tokens</c>).</summary>
    public const string InputTokensOutput = "num_input_tokens";

    /// <summary>The tokens generated (<c>num_output_tokens</c>).</summary>
    public const string OutputTokensOutput = "num_output_tokens";

    /// <summary>Why the text ended: stop or length (<c>finish_reason</c>).</summary>
    public const string FinishReasonOutput = "finish_reason";

    /// <summary>What the model declares to KServe clients: Triton's vLLM backend's inputs, the prompt required, the rest optional.</summary>
    public static ModelSignature Signature { get; } = new(
        [
            new TensorSignature(TextInput, DataType.Bytes, [1]),
            new TensorSignature(StreamInput, DataType.Bool, [1], Optional: true),
            new TensorSignature(SamplingParametersInput, DataType.Bytes, [1], Optional: true),
            new TensorSignature(ExcludeInputInOutput, DataType.Bool, [1], Optional: true),
        ],
        [
            new TensorSignature(TextOutput, DataType.Bytes, [1]),
            new TensorSignature(InputTokensOutput, DataType.Int32, [1]),
            new TensorSignature(OutputTokensOutput, DataType.Int32, [1]),
            new TensorSignature(FinishReasonOutput, DataType.Bytes, [1]),
        ]);

    /// <summary>
    /// The request's parameters with its optional inputs folded in: the settings of a <c>sampling_parameters</c> JSON
    /// object (numbers, booleans, strings) and <c>exclude_input_in_output</c>; the inputs win over parameters of the same name.
    /// </summary>
    /// <param name="request">The request.</param>
    /// <param name="error">Why the inputs cannot be used.</param>
    /// <param name="streaming">Whether the answer streams (generate_stream), so a <c>stream</c> input of true is fine.</param>
    public static IReadOnlyDictionary<string, object>? Merge(InferenceRequest request, out string? error, bool streaming = false)
    {
        ArgumentNullException.ThrowIfNull(request);
        error = null;
        var merged = new Dictionary<string, object>(request.Parameters ?? new Dictionary<string, object>(), StringComparer.Ordinal);
        if (request.Inputs.Find(i => i.Name == SamplingParametersInput)?.ToStrings() is [var json])
        {
            try
            {
                using var document = System.Text.Json.JsonDocument.Parse(json, new System.Text.Json.JsonDocumentOptions { MaxDepth = 8 });
                foreach (var setting in document.RootElement.EnumerateObject())
                {
                    merged[setting.Name] = setting.Value.ValueKind switch
                    {
                        System.Text.Json.JsonValueKind.Number when setting.Value.TryGetInt64(out var whole) => whole,
                        System.Text.Json.JsonValueKind.Number => setting.Value.GetDouble(),
                        System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False => setting.Value.GetBoolean(),
                        System.Text.Json.JsonValueKind.String => setting.Value.GetString()!,
                        _ => throw new FormatException(setting.Name),
                    };
                }
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException)
            {
                error = $"'{SamplingParametersInput}' must hold a JSON object of numbers, booleans and strings";
                return null;
            }
        }

        if (request.Inputs.Find(i => i.Name == ExcludeInputInOutput)?.ToArray<bool>() is [var exclude])
        {
            merged[ExcludeInputInOutput] = exclude;
        }

        if (!streaming && request.Inputs.Find(i => i.Name == StreamInput)?.ToArray<bool>() is [true])
        {
            error = "'stream' asks for a streamed answer: use /v2/models/{model}/generate_stream (an infer request has one answer)";
            return null;
        }

        return merged;
    }

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
