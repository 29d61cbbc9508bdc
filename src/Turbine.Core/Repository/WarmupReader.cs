using System.Text.Json;

namespace Turbine.Core.Repository;

/// <summary>
/// Reads Triton's <c>model_warmup</c>: a list of samples, each with a batch size, a count and a map of inputs whose
/// data is <c>zero_data</c>, <c>random_data</c> or <c>input_data_file</c> (a file in the model's <c>warmup/</c> folder).
/// </summary>
internal static class WarmupReader
{
    /// <summary>The most samples, and runs per sample, a config may ask for: warm-up delays every load.</summary>
    private const int MaxSamples = 64;
    private const int MaxCount = 1000;

    public static List<WarmupSample>? Read(JsonElement root, List<string> errors)
    {
        if (!root.TryGetProperty("model_warmup", out var array))
        {
            return null;
        }

        if (array.ValueKind != JsonValueKind.Array || array.GetArrayLength() > MaxSamples)
        {
            errors.Add($"'model_warmup' must be an array of at most {MaxSamples} samples");
            return null;
        }

        var samples = new List<WarmupSample>();
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            var where = $"model_warmup[{index++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                errors.Add($"'{where}' must be an object");
                continue;
            }

            var count = ConfigJson.Int(item, "count", errors, where) ?? 1;
            if (count is < 1 or > MaxCount)
            {
                errors.Add($"'{where}.count' must be between 1 and {MaxCount}");
                continue;
            }

            var inputs = Inputs(item, where, errors);
            if (inputs is not null)
            {
                var name = ConfigJson.String(item, "name", errors, where) ?? $"sample {index}";
                samples.Add(new WarmupSample(name, ConfigJson.Int(item, "batch_size", errors, where) ?? 1, inputs, count));
            }
        }

        return samples;
    }

    private static List<WarmupInput>? Inputs(JsonElement sample, string where, List<string> errors)
    {
        if (!sample.TryGetProperty("inputs", out var map) || map.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"'{where}.inputs' must map input names to their data");
            return null;
        }

        var inputs = new List<WarmupInput>();
        foreach (var property in map.EnumerateObject())
        {
            var at = $"{where}.inputs.{property.Name}";
            var value = property.Value;
            if (value.ValueKind != JsonValueKind.Object)
            {
                errors.Add($"'{at}' must be an object");
                return null;
            }

            var typeName = ConfigJson.String(value, "data_type", errors, at);
            if (typeName is null || !DataTypes.TryParse(typeName, out var type))
            {
                errors.Add($"'{at}.data_type' must name a data type, e.g. TYPE_FP32");
                return null;
            }

            var dims = ConfigJson.Longs(value, "dims", errors, at) ?? [];
            if (Array.Exists(dims, d => d < 0))
            {
                errors.Add($"'{at}.dims' must be fixed (no -1): warm-up data has a concrete shape");
                return null;
            }

            var file = ConfigJson.String(value, "input_data_file", errors, at);
            if (file is not null && !ModelNames.IsValid(file))
            {
                // A plain file name only: the path is built under the model's warmup/ folder (SECURITY.md A2).
                errors.Add($"'{at}.input_data_file' must be a plain file name inside the model's warmup/ folder");
                return null;
            }

            var kind = file is not null ? WarmupDataKind.File
                : ConfigJson.Bool(value, "random_data", errors, at) == true ? WarmupDataKind.Random
                : WarmupDataKind.Zero;
            inputs.Add(new WarmupInput(property.Name, type, dims, kind, file));
        }

        return inputs;
    }
}
