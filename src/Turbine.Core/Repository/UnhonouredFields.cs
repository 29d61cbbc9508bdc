using System.Text.Json;

namespace Turbine.Core.Repository;

/// <summary>
/// The settings Turbine cannot honour and must not ignore: a model that asks for them would serve wrong answers
/// (a ragged batch run as a dense one) or break its clients' protocol (a
/// decoupled model answered once). Such a model fails to load with the reason, never reports READY. Settings that
/// only tune speed (<c>optimization</c>, ...) are ignored with a warning instead (<see cref="UnsupportedFields"/>).
/// </summary>
internal static class UnhonouredFields
{
    public static void Check(JsonElement root, List<string> errors)
    {
        if (root.TryGetProperty("model_transaction_policy", out var policy) && policy.ValueKind == JsonValueKind.Object &&
            policy.TryGetProperty("decoupled", out var decoupled) && decoupled.ValueKind == JsonValueKind.True)
        {
            errors.Add("'model_transaction_policy.decoupled' is not supported: Turbine answers each request once");
        }

        foreach (var field in new[] { "batch_input", "batch_output" })
        {
            if (root.TryGetProperty(field, out var items) && items.ValueKind == JsonValueKind.Array && items.GetArrayLength() > 0)
            {
                errors.Add($"'{field}' (ragged batching) is not supported");
            }
        }

        if (root.TryGetProperty("input", out var inputs) && inputs.ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            foreach (var input in inputs.EnumerateArray())
            {
                foreach (var flag in new[] { "allow_ragged_batch", "is_shape_tensor" })
                {
                    if (input.ValueKind == JsonValueKind.Object && input.TryGetProperty(flag, out var on) && on.ValueKind == JsonValueKind.True)
                    {
                        errors.Add($"'input[{index}].{flag}' is not supported");
                    }
                }

                index++;
            }
        }
    }
}
