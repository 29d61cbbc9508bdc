using System.Globalization;
using System.Text.Json;
using Turbine.Core.Repository;

namespace Turbine.Traffic.Pipelines;

/// <summary>
/// Reads a Triton ensemble (a model folder whose configuration has <c>platform: "ensemble"</c> and
/// <c>ensemble_scheduling { step [...] }</c>) as a pipeline of model steps, so a Triton repository with ensembles
/// serves unchanged. Triton's maps already go the way Turbine's do (model tensor -> ensemble tensor);
/// <c>model_version: -1</c> is the default version; the outputs are the configuration's <c>output</c> names.
/// </summary>
public static class TritonEnsemble
{
    /// <summary>The pipeline an ensemble configuration (as JSON) describes, or why it cannot be one.</summary>
    public static InferenceError? Read(string name, string configJson, out PipelineDefinition? pipeline)
    {
        ArgumentNullException.ThrowIfNull(configJson);
        pipeline = null;
        try
        {
            using var document = JsonDocument.Parse(configJson, new JsonDocumentOptions { MaxDepth = 64, CommentHandling = JsonCommentHandling.Skip });
            var root = document.RootElement;
            if (!root.TryGetProperty("ensemble_scheduling", out var scheduling) || !scheduling.TryGetProperty("step", out var stepsElement) ||
                stepsElement.ValueKind != JsonValueKind.Array || stepsElement.GetArrayLength() is 0 or > PipelineJson.MaxSteps)
            {
                return InferenceError.Invalid($"ensemble '{name}' needs ensemble_scheduling with 1 to {PipelineJson.MaxSteps} steps");
            }

            var steps = new List<PipelineStep>();
            foreach (var step in stepsElement.EnumerateArray())
            {
                var error = ReadStep(step, steps, out var read);
                if (error is not null)
                {
                    return InferenceError.Invalid($"ensemble '{name}' step {steps.Count}: {error.Message}");
                }

                steps.Add(read!);
            }

            List<string>? outputs = null;
            if (root.TryGetProperty("output", out var outputElement) && outputElement.ValueKind == JsonValueKind.Array)
            {
                outputs = [.. outputElement.EnumerateArray().Select(o => o.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : "")];
            }

            var graphError = PipelineGraph.Check(steps, outputs is { Count: > 0 } ? outputs : null, out var resolved);
            if (graphError is not null)
            {
                return InferenceError.Invalid($"ensemble '{name}': {graphError.Message}");
            }

            pipeline = new PipelineDefinition(name, steps, resolved!);
            return null;
        }
        catch (JsonException)
        {
            return InferenceError.Invalid($"ensemble '{name}': the configuration is not valid");
        }
    }

    private static InferenceError? ReadStep(JsonElement step, List<PipelineStep> earlier, out PipelineStep? read)
    {
        read = null;
        if (step.ValueKind != JsonValueKind.Object ||
            !step.TryGetProperty("model_name", out var model) || model.ValueKind != JsonValueKind.String || !ModelNames.IsValid(model.GetString()))
        {
            return InferenceError.Invalid("needs a valid model_name");
        }

        // -1 (or nothing) is the default version; protobuf's JSON may write the int64 as a string.
        var number = -1L;
        if (step.TryGetProperty("model_version", out var versionElement) &&
            !(versionElement.ValueKind == JsonValueKind.Number && versionElement.TryGetInt64(out number)) &&
            !(versionElement.ValueKind == JsonValueKind.String && long.TryParse(versionElement.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out number)))
        {
            return InferenceError.Invalid("model_version must be a version number or -1");
        }

        var version = number > 0 ? number.ToString(CultureInfo.InvariantCulture) : null;

        var inputMap = Map(step, "input_map");
        var outputMap = Map(step, "output_map");
        if (inputMap is null || outputMap is null)
        {
            return InferenceError.Invalid("needs input_map and output_map with string keys and values");
        }

        // Triton names steps by model; a model used twice gets a numbered step name.
        var name = model.GetString()!;
        for (var n = 2; earlier.Exists(s => s.Name == name); n++)
        {
            name = model.GetString() + "_" + n.ToString(CultureInfo.InvariantCulture);
        }

        read = new ModelStep(name, new ModelTarget(model.GetString()!, version), inputMap, outputMap);
        return null;
    }

    private static Dictionary<string, string>? Map(JsonElement step, string property)
    {
        if (!step.TryGetProperty(property, out var element) || element.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in element.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
            {
                return null;
            }

            map[entry.Name] = entry.Value.GetString()!;
        }

        return map.Count == 0 ? null : map;
    }
}
