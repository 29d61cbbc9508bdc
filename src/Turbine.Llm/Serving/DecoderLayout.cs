namespace Turbine.Llm.Serving;

/// <summary>
/// Recognizes a decoder exported in the Hugging Face Optimum layout from its declared inputs and outputs alone
/// (<c>input_ids</c>, <c>attention_mask</c>, <c>position_ids</c>, <c>past_key_values.N.key|value</c> in; <c>logits</c>,
/// <c>present.N.key|value</c> out), so a generative model is told apart before any session is made.
/// </summary>
public static class DecoderLayout
{
    /// <summary>What the model file lacks to be such a decoder; empty when it is one.</summary>
    public static IReadOnlyList<string> Problems(ModelSignature signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        var problems = new List<string>();
        var inputs = signature.Inputs.ToDictionary(i => i.Name, StringComparer.Ordinal);
        var outputs = signature.Outputs.ToDictionary(o => o.Name, StringComparer.Ordinal);
        foreach (var name in (string[])["input_ids", "attention_mask", "position_ids", "past_key_values.0.key"])
        {
            if (!inputs.ContainsKey(name))
            {
                problems.Add($"no input '{name}'");
            }
        }

        if (!outputs.TryGetValue("logits", out var logits))
        {
            problems.Add("no output 'logits'");
        }
        else if (logits.Shape.Length != 3 || logits.Shape[2] <= 0)
        {
            problems.Add("'logits' is not [batch, sequence, vocabulary] with a fixed vocabulary");
        }

        var layers = inputs.Keys.Count(k => k.StartsWith("past_key_values.", StringComparison.Ordinal) && k.EndsWith(".key", StringComparison.Ordinal));
        for (var layer = 0; layer < layers; layer++)
        {
            foreach (var name in (string[])[$"past_key_values.{layer}.value", $"present.{layer}.key", $"present.{layer}.value"])
            {
                if (!inputs.ContainsKey(name) && !outputs.ContainsKey(name))
                {
                    problems.Add($"no '{name}' for layer {layer}");
                }
            }
        }

        return problems;
    }
}
