namespace Turbine.Traffic.Pipelines;

/// <summary>
/// What a pipeline looks like to clients that read metadata first (Triton's and KServe's clients, perf_analyzer):
/// its inputs take the datatype and shape of the model inputs they feed, its outputs those of the model outputs (or
/// aggregations) that make them. The batch dimension, where the models have one, is written as -1.
/// </summary>
public static class PipelineSignature
{
    /// <summary>The pipeline as a model configuration (backend <c>ensemble</c>), or null when a model it calls is not loaded.</summary>
    /// <param name="pipeline">The pipeline.</param>
    /// <param name="configOf">The loaded configuration of a model version, or null.</param>
    public static ModelConfig? Describe(PipelineDefinition pipeline, Func<ModelTarget, ModelConfig?> configOf)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(configOf);
        var specs = new Dictionary<string, TensorConfig>(StringComparer.Ordinal);
        foreach (var step in pipeline.Steps.OfType<ModelCallStep>())
        {
            if (configOf(SignatureTarget(step)) is not { } config)
            {
                return null;
            }

            Collect(specs, config, config.Inputs, step.InputMap);
            Collect(specs, config, config.Outputs, step.OutputMap);
        }

        // Aggregations may feed each other: resolve them until nothing changes.
        for (var changed = true; changed;)
        {
            changed = false;
            foreach (var aggregate in pipeline.Steps.OfType<AggregateStep>())
            {
                if (!specs.ContainsKey(aggregate.Output) && specs.TryGetValue(aggregate.Inputs[0], out var first))
                {
                    specs[aggregate.Output] = Aggregated(aggregate, first);
                    changed = true;
                }
            }
        }

        var inputs = PipelineGraph.Inputs(pipeline.Steps);
        return inputs.Concat(pipeline.Outputs).All(specs.ContainsKey)
            ? new ModelConfig { Name = pipeline.Name, Backend = "ensemble", Inputs = [.. inputs.Select(n => specs[n])], Outputs = [.. pipeline.Outputs.Select(n => specs[n])] }
            : null;
    }

    /// <summary>The model whose signature a step stands for: its model, a switch's first case (or default), a cascade's last stage.</summary>
    public static ModelTarget SignatureTarget(ModelCallStep step) => step switch
    {
        ModelStep model => model.Target,
        SwitchStep choice => choice.Cases.Values.FirstOrDefault() ?? choice.Default!,
        CascadeStep cascade => cascade.Stages[^1].Target,
        _ => throw new ArgumentOutOfRangeException(nameof(step)),
    };

    private static void Collect(Dictionary<string, TensorConfig> specs, ModelConfig config, IReadOnlyList<TensorConfig> tensors, IReadOnlyDictionary<string, string> map)
    {
        foreach (var tensor in tensors)
        {
            if (map.TryGetValue(tensor.Name, out var pipelineTensor))
            {
                specs.TryAdd(pipelineTensor, new TensorConfig(pipelineTensor, tensor.DataType, config.FullShape(tensor)));
            }
        }
    }

    private static TensorConfig Aggregated(AggregateStep aggregate, TensorConfig input) =>
        aggregate.Method == AggregateMethod.Average || input.DataType is DataType.Int32 or DataType.Int64
            ? new TensorConfig(aggregate.Output, aggregate.Method == AggregateMethod.Average ? input.DataType : DataType.Int64, input.Dims)
            : new TensorConfig(aggregate.Output, DataType.Int64, input.Dims.Length <= 1 ? [1] : input.Dims[..^1]);
}
