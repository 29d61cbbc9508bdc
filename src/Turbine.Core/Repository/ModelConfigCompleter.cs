namespace Turbine.Core.Repository;

/// <summary>
/// Fills what a config leaves out from the model file's own signature, as Triton's auto-complete does: the
/// inputs and outputs, their types and dims, and batching (a model whose every input and output has a dynamic
/// first dimension batches, up to <see cref="DefaultMaxBatchSize"/>).
/// </summary>
internal static class ModelConfigCompleter
{
    /// <summary>The batch limit given to a batching model whose config does not set one.</summary>
    public const int DefaultMaxBatchSize = 32;

    public static ModelConfig Complete(string modelName, ModelConfigDraft draft, IModelBackend backend, BackendSettings settings, ModelSignature signature)
    {
        var maxBatchSize = draft.MaxBatchSize ?? (SupportsBatching(signature) ? DefaultMaxBatchSize : 0);
        var batching = maxBatchSize > 0;
        // The sequence batcher fills its control and state tensors itself: they are the model's, never the client's.
        var hidden = draft.SequenceBatching is { } sequences
            ? new HashSet<string>(sequences.HiddenInputs().Concat(sequences.StateOutputs()).Select(tensor => tensor.Name), StringComparer.Ordinal)
            : [];
        return new ModelConfig
        {
            Name = draft.Name ?? modelName,
            Backend = backend.Name,
            MaxBatchSize = maxBatchSize,
            Inputs = Tensors(draft.Inputs, signature.Inputs, batching, hidden),
            Outputs = Tensors(draft.Outputs, signature.Outputs, batching, hidden),
            InstanceCount = draft.InstanceCount ?? 1,
            InstanceDevices = draft.InstanceDevices,
            Settings = settings,
            VersionPolicy = draft.VersionPolicy ?? VersionPolicy.Default,
            MaxQueueSize = draft.MaxQueueSize ?? 1024,
            BackgroundLane = draft.BackgroundLane ?? BackgroundLaneConfig.Default,
            DynamicBatching = draft.DynamicBatching,
            QueuePolicy = draft.QueuePolicy ?? QueuePolicyConfig.None,
            SequenceBatching = draft.SequenceBatching,
            Warmup = draft.Warmup ?? [],
            ResponseCache = draft.ResponseCache ?? false,
            ModelFileName = draft.DefaultModelFileName ?? backend.DefaultModelFileName,
        };
    }

    private static bool SupportsBatching(ModelSignature signature)
    {
        if (!signature.Declared)
        {
            return false; // nothing says the model batches: only the configuration's max_batch_size can
        }

        foreach (var tensor in signature.Inputs.Concat(signature.Outputs))
        {
            if (tensor.Shape.Length == 0 || tensor.Shape[0] != -1)
            {
                return false;
            }
        }

        return true;
    }

    private static List<TensorConfig> Tensors(IReadOnlyList<TensorConfigDraft>? drafts, IReadOnlyList<TensorSignature> declared, bool batching, HashSet<string> hidden)
    {
        var result = new List<TensorConfig>();
        if (drafts is null)
        {
            foreach (var tensor in declared.Where(tensor => !hidden.Contains(tensor.Name)))
            {
                result.Add(new TensorConfig(tensor.Name, tensor.DataType, Dims(tensor.Shape, batching), Optional: tensor.Optional));
            }

            return result;
        }

        foreach (var draft in drafts)
        {
            var match = declared.FirstOrDefault(t => t.Name == draft.Name);
            result.Add(new TensorConfig(
                draft.Name,
                draft.DataType ?? match?.DataType ?? DataType.Invalid,
                draft.Dims ?? (match is null ? [] : Dims(match.Shape, batching)),
                draft.Reshape,
                draft.LabelFile,
                draft.Optional ?? match?.Optional ?? false));
        }

        return result;
    }

    private static long[] Dims(long[] shape, bool batching) => batching && shape.Length > 0 ? shape[1..] : shape;
}
