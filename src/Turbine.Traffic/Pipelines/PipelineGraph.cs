namespace Turbine.Traffic.Pipelines;

/// <summary>The shape of a pipeline's graph: which tensors come from the client, and whether the steps can all run.</summary>
public static class PipelineGraph
{
    /// <summary>The tensors the steps consume that no step produces: the pipeline's inputs, in first-use order.</summary>
    public static IReadOnlyList<string> Inputs(IReadOnlyList<PipelineStep> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        var produced = steps.SelectMany(s => s.Produces).ToHashSet(StringComparer.Ordinal);
        return [.. steps.SelectMany(s => s.Consumes).Where(t => !produced.Contains(t)).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>
    /// Checks that step names are unique, every tensor is produced by one step at most, the steps can run in some order
    /// (no cycle), and every output is produced; <paramref name="resolved"/> gets the outputs, by default the tensors
    /// produced and consumed by no step.
    /// </summary>
    public static InferenceError? Check(IReadOnlyList<PipelineStep> steps, IReadOnlyList<string>? outputs, out IReadOnlyList<string>? resolved)
    {
        ArgumentNullException.ThrowIfNull(steps);
        resolved = null;
        if (steps.Select(s => s.Name).Distinct(StringComparer.Ordinal).Count() != steps.Count)
        {
            return InferenceError.Invalid("two steps have the same name");
        }

        var producer = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var step in steps)
        {
            foreach (var tensor in step.Produces)
            {
                if (!producer.TryAdd(tensor, step.Name))
                {
                    return InferenceError.Invalid($"tensor '{tensor}' is produced by both step '{producer[tensor]}' and step '{step.Name}'");
                }
            }
        }

        // Kahn's algorithm over tensors: a step can run once everything it consumes is a pipeline input or already produced.
        var available = Inputs(steps).ToHashSet(StringComparer.Ordinal);
        var waiting = steps.ToList();
        while (waiting.Count > 0)
        {
            var ready = waiting.Where(s => s.Consumes.All(available.Contains)).ToList();
            if (ready.Count == 0)
            {
                return InferenceError.Invalid($"steps {string.Join(", ", waiting.Select(s => $"'{s.Name}'"))} wait on each other (a cycle)");
            }

            foreach (var step in ready)
            {
                waiting.Remove(step);
                available.UnionWith(step.Produces);
            }
        }

        var consumed = steps.SelectMany(s => s.Consumes).ToHashSet(StringComparer.Ordinal);
        resolved = outputs ?? [.. producer.Keys.Where(t => !consumed.Contains(t))];
        if (resolved.FirstOrDefault(o => !producer.ContainsKey(o)) is { } missing)
        {
            return InferenceError.Invalid($"output '{missing}' is produced by no step");
        }

        if (resolved.Count == 0)
        {
            return InferenceError.Invalid("the pipeline has no output: name them in 'outputs'");
        }

        return null;
    }
}
