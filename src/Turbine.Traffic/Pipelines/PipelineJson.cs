using System.Text.Json;
using Turbine.Core.Repository;

namespace Turbine.Traffic.Pipelines;

/// <summary>
/// Reads and writes pipelines as JSON (docs/TRAFFIC.md), the same form in a request body and in the state folder.
/// Reading validates the whole graph: names, maps, every tensor produced once, no cycle, outputs that exist.
/// </summary>
public static class PipelineJson
{
    public const int MaxSteps = 64;
    private const int MaxMapEntries = 64;
    private const int MaxTensorName = 256;
    private const int MaxCascadeStages = 8;
    private const int MaxAggregateInputs = 16;
    private static readonly string[] StepKinds = ["model", "switch", "cascade", "aggregate"];

    /// <summary>Reads a pipeline; <paramref name="name"/> (from the URL) must agree with any name in the body.</summary>
    public static InferenceError? Read(ReadOnlySpan<byte> json, string name, int maxDepth, out PipelineDefinition? pipeline)
    {
        pipeline = null;
        if (!ModelNames.IsValid(name))
        {
            return InferenceError.Invalid($"'{ClientText.Quote(name)}' is not a valid pipeline name");
        }

        try
        {
            using var document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = maxDepth, CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object ||
                !root.TryGetProperty("steps", out var stepsElement) || stepsElement.ValueKind != JsonValueKind.Array || stepsElement.GetArrayLength() is 0 or > MaxSteps)
            {
                return InferenceError.Invalid($"a pipeline must be a JSON object with 'steps', an array of 1 to {MaxSteps} steps");
            }

            if (root.TryGetProperty("name", out var named) && (named.ValueKind != JsonValueKind.String || named.GetString() != name))
            {
                return InferenceError.Invalid($"the body names another pipeline than '{name}'");
            }

            var steps = new List<PipelineStep>();
            foreach (var element in stepsElement.EnumerateArray())
            {
                var error = ReadStep(element, steps.Count, out var step);
                if (error is not null)
                {
                    return error;
                }

                steps.Add(step!);
            }

            List<string>? outputs = null;
            if (root.TryGetProperty("outputs", out var outputsElement) && outputsElement.ValueKind != JsonValueKind.Null &&
                ReadNames(outputsElement, "outputs", 1, MaxMapEntries, out outputs) is { } outputsError)
            {
                return outputsError;
            }

            var graphError = PipelineGraph.Check(steps, outputs, out var resolvedOutputs);
            if (graphError is not null)
            {
                return graphError;
            }

            pipeline = new PipelineDefinition(name, steps, resolvedOutputs!);
            return null;
        }
        catch (JsonException)
        {
            return InferenceError.Invalid("the pipeline is not valid JSON");
        }
    }

    public static void Write(Utf8JsonWriter writer, PipelineDefinition pipeline)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(pipeline);
        writer.WriteStartObject();
        writer.WriteString("name", pipeline.Name);
        writer.WriteStartArray("steps");
        foreach (var step in pipeline.Steps)
        {
            WriteStep(writer, step);
        }

        writer.WriteEndArray();
        writer.WriteStartArray("outputs");
        foreach (var output in pipeline.Outputs)
        {
            writer.WriteStringValue(output);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static InferenceError? ReadStep(JsonElement element, int index, out PipelineStep? step)
    {
        step = null;
        var where = $"steps[{index}]";
        if (element.ValueKind != JsonValueKind.Object ||
            !element.TryGetProperty("name", out var nameElement) || nameElement.ValueKind != JsonValueKind.String || !ModelNames.IsValid(nameElement.GetString()))
        {
            return InferenceError.Invalid($"'{where}' needs a 'name' (letters, digits, '.', '_', '-')");
        }

        var name = nameElement.GetString()!;
        where = $"step '{name}'";
        var kinds = StepKinds.Count(k => element.TryGetProperty(k, out _));
        if (kinds != 1)
        {
            return InferenceError.Invalid($"{where} needs exactly one of 'model', 'switch', 'cascade' or 'aggregate'");
        }

        if (element.TryGetProperty("aggregate", out var method))
        {
            var aggregate = method.ValueKind == JsonValueKind.String ? method.GetString() : null;
            if (aggregate is not ("average" or "vote"))
            {
                return InferenceError.Invalid($"{where}: 'aggregate' must be \"average\" or \"vote\"");
            }

            List<string>? inputs = null;
            var inputsError = element.TryGetProperty("inputs", out var inputsElement)
                ? ReadNames(inputsElement, $"{where}.inputs", 2, MaxAggregateInputs, out inputs)
                : InferenceError.Invalid($"{where} needs 'inputs', 2 to {MaxAggregateInputs} tensor names");
            if (inputsError is not null)
            {
                return inputsError;
            }

            if (!element.TryGetProperty("output", out var outputElement) || !IsTensorName(outputElement))
            {
                return InferenceError.Invalid($"{where} needs 'output', the tensor name of the result");
            }

            step = new AggregateStep(name, aggregate == "average" ? AggregateMethod.Average : AggregateMethod.Vote, inputs!, outputElement.GetString()!);
            return null;
        }

        Dictionary<string, string>? outputMap = null;
        var mapError = ReadMap(element, "input_map", where, out var inputMap) ?? ReadMap(element, "output_map", where, out outputMap);
        if (mapError is not null)
        {
            return mapError;
        }

        if (element.TryGetProperty("model", out _))
        {
            var targetError = ReadTarget(element, where, out var target);
            step = targetError is null ? new ModelStep(name, target!, inputMap!, outputMap!) : null;
            return targetError;
        }

        return element.TryGetProperty("switch", out var switchElement)
            ? ReadSwitch(switchElement, name, where, inputMap!, outputMap!, out step)
            : ReadCascade(element.GetProperty("cascade"), name, where, inputMap!, outputMap!, out step);
    }

    private static InferenceError? ReadSwitch(
        JsonElement element, string name, string where, Dictionary<string, string> inputMap, Dictionary<string, string> outputMap, out PipelineStep? step)
    {
        step = null;
        var parameter = element.ValueKind == JsonValueKind.Object && element.TryGetProperty("parameter", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
        var tensor = element.ValueKind == JsonValueKind.Object && element.TryGetProperty("tensor", out var t) && IsTensorName(t) ? t.GetString() : null;
        if ((parameter is null) == (tensor is null) || (parameter is not null && !ModelNames.IsValid(parameter)) ||
            !element.TryGetProperty("cases", out var casesElement) || casesElement.ValueKind != JsonValueKind.Object)
        {
            return InferenceError.Invalid($"{where}: 'switch' needs one of 'parameter' (a request parameter) or 'tensor' (a pipeline tensor), and 'cases'");
        }

        var cases = new Dictionary<string, ModelTarget>(StringComparer.Ordinal);
        foreach (var @case in casesElement.EnumerateObject())
        {
            var error = ReadTarget(@case.Value, $"{where}: case '{ClientText.Quote(@case.Name)}'", out var target);
            if (error is not null)
            {
                return error;
            }

            if (cases.Count == MaxMapEntries || @case.Name.Length > MaxTensorName)
            {
                return InferenceError.Invalid($"{where}: 'switch' takes up to {MaxMapEntries} cases, each named in up to {MaxTensorName} characters");
            }

            cases[@case.Name] = target!;
        }

        ModelTarget? fallback = null;
        if (element.TryGetProperty("default", out var defaultElement) && defaultElement.ValueKind != JsonValueKind.Null &&
            ReadTarget(defaultElement, $"{where}: 'default'", out fallback) is { } defaultError)
        {
            return defaultError;
        }

        if (cases.Count == 0 && fallback is null)
        {
            return InferenceError.Invalid($"{where}: 'switch' needs at least one case or a default");
        }

        step = new SwitchStep(name, parameter, tensor, cases, fallback, inputMap, outputMap);
        return null;
    }

    private static InferenceError? ReadCascade(
        JsonElement element, string name, string where, Dictionary<string, string> inputMap, Dictionary<string, string> outputMap, out PipelineStep? step)
    {
        step = null;
        var rules = InferenceError.Invalid(
            $"{where}: 'cascade' needs 'stages' (2 to {MaxCascadeStages} models, each but the last with a 'threshold' in (0, 1]) " +
            "and 'confidence', a model output named in 'output_map'");
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty("stages", out var stagesElement) ||
            stagesElement.ValueKind != JsonValueKind.Array || stagesElement.GetArrayLength() is < 2 or > MaxCascadeStages ||
            !element.TryGetProperty("confidence", out var confidence) || confidence.ValueKind != JsonValueKind.String || !outputMap.ContainsKey(confidence.GetString()!))
        {
            return rules;
        }

        var stages = new List<CascadeStage>();
        var count = stagesElement.GetArrayLength();
        foreach (var stage in stagesElement.EnumerateArray())
        {
            var last = stages.Count == count - 1;
            double? threshold = stage.ValueKind == JsonValueKind.Object && stage.TryGetProperty("threshold", out var th) && th.ValueKind == JsonValueKind.Number ? th.GetDouble() : null;
            if (ReadTarget(stage, $"{where}: stage {stages.Count}", out var target) is { } error)
            {
                return error;
            }

            if (last != (threshold is null) || threshold is not (null or (> 0 and <= 1)))
            {
                return rules;
            }

            stages.Add(new CascadeStage(target!, threshold));
        }

        step = new CascadeStep(name, stages, confidence.GetString()!, inputMap, outputMap);
        return null;
    }

    private static InferenceError? ReadTarget(JsonElement element, string where, out ModelTarget? target)
    {
        var error = ModelReferenceJson.Read(element, where, out var model, out var version);
        target = error is null ? new ModelTarget(model!, version) : null;
        return error;
    }

    private static InferenceError? ReadMap(JsonElement step, string property, string where, out Dictionary<string, string>? map)
    {
        map = null;
        if (!step.TryGetProperty(property, out var element) || element.ValueKind != JsonValueKind.Object)
        {
            return InferenceError.Invalid($"{where} needs '{property}', an object from the model's tensor names to the pipeline's");
        }

        map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in element.EnumerateObject())
        {
            if (!IsTensorName(entry.Value) || entry.Name.Length is 0 or > MaxTensorName || map.Count == MaxMapEntries)
            {
                return InferenceError.Invalid($"{where}: '{property}' maps up to {MaxMapEntries} tensor names (1 to {MaxTensorName} characters) to tensor names");
            }

            map[entry.Name] = entry.Value.GetString()!;
        }

        if (map.Count == 0)
        {
            return InferenceError.Invalid($"{where}: '{property}' must map at least one tensor");
        }

        if (property == "output_map" && map.Values.Distinct(StringComparer.Ordinal).Count() != map.Count)
        {
            return InferenceError.Invalid($"{where}: 'output_map' writes one pipeline tensor twice");
        }

        return null;
    }

    private static InferenceError? ReadNames(JsonElement element, string where, int min, int max, out List<string>? names)
    {
        names = null;
        if (element.ValueKind != JsonValueKind.Array || element.GetArrayLength() < min || element.GetArrayLength() > max ||
            element.EnumerateArray().Any(n => !IsTensorName(n)))
        {
            return InferenceError.Invalid($"'{where}' must be an array of {min} to {max} tensor names");
        }

        names = [.. element.EnumerateArray().Select(n => n.GetString()!)];
        return null;
    }

    private static bool IsTensorName(JsonElement element) =>
        element.ValueKind == JsonValueKind.String && element.GetString() is { Length: > 0 and <= MaxTensorName } name && !name.Any(char.IsControl);

    private static void WriteStep(Utf8JsonWriter writer, PipelineStep step)
    {
        writer.WriteStartObject();
        writer.WriteString("name", step.Name);
        switch (step)
        {
            case AggregateStep aggregate:
                writer.WriteString("aggregate", aggregate.Method == AggregateMethod.Average ? "average" : "vote");
                writer.WriteStartArray("inputs");
                foreach (var input in aggregate.Inputs)
                {
                    writer.WriteStringValue(input);
                }

                writer.WriteEndArray();
                writer.WriteString("output", aggregate.Output);
                break;
            case ModelStep model:
                WriteTarget(writer, model.Target);
                break;
            case SwitchStep choice:
                writer.WriteStartObject("switch");
                writer.WriteString(choice.Parameter is null ? "tensor" : "parameter", choice.Parameter ?? choice.Tensor);
                writer.WriteStartObject("cases");
                foreach (var (value, target) in choice.Cases)
                {
                    writer.WriteStartObject(value);
                    WriteTarget(writer, target);
                    writer.WriteEndObject();
                }

                writer.WriteEndObject();
                if (choice.Default is { } fallback)
                {
                    writer.WriteStartObject("default");
                    WriteTarget(writer, fallback);
                    writer.WriteEndObject();
                }

                writer.WriteEndObject();
                break;
            case CascadeStep cascade:
                writer.WriteStartObject("cascade");
                writer.WriteStartArray("stages");
                foreach (var stage in cascade.Stages)
                {
                    writer.WriteStartObject();
                    WriteTarget(writer, stage.Target);
                    if (stage.Threshold is { } threshold)
                    {
                        writer.WriteNumber("threshold", threshold);
                    }

                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                writer.WriteString("confidence", cascade.ConfidenceOutput);
                writer.WriteEndObject();
                break;
        }

        if (step is ModelCallStep call)
        {
            WriteMap(writer, "input_map", call.InputMap);
            WriteMap(writer, "output_map", call.OutputMap);
        }

        writer.WriteEndObject();
    }

    private static void WriteTarget(Utf8JsonWriter writer, ModelTarget target)
    {
        writer.WriteString("model", target.Model);
        if (target.Version is not null)
        {
            writer.WriteString("version", target.Version);
        }
    }

    private static void WriteMap(Utf8JsonWriter writer, string property, IReadOnlyDictionary<string, string> map)
    {
        writer.WriteStartObject(property);
        foreach (var (from, to) in map)
        {
            writer.WriteString(from, to);
        }

        writer.WriteEndObject();
    }
}
