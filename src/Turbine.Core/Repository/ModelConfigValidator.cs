namespace Turbine.Core.Repository;

/// <summary>Checks a completed configuration against itself and the model file; reports every error, not the first.</summary>
internal static class ModelConfigValidator
{
    /// <summary>Each level is a queue that the scheduler scans; a handful is what real deployments use.</summary>
    private const int MaxPriorityLevels = 100;

    /// <summary>A day: idle sequences hold a slot and their state until then.</summary>
    private const long MaxSequenceIdleMicroseconds = 86_400_000_000;


    public static void Validate(ModelConfig config, string folderName, ModelSignature? signature, List<string> errors)
    {
        if (config.Name != folderName)
        {
            errors.Add($"'name' is '{config.Name}' but the model folder is '{folderName}'; they must match");
        }

        if (config.MaxBatchSize < 0)
        {
            errors.Add($"'max_batch_size' must be >= 0, got {config.MaxBatchSize}");
        }

        if (config.InstanceCount is < 1 or > 64)
        {
            errors.Add($"instance count must be between 1 and 64, got {config.InstanceCount}");
        }

        if (config.MaxQueueSize < 1)
        {
            errors.Add($"'max_queue_size' must be >= 1, got {config.MaxQueueSize}");
        }

        if (config.BackgroundLane.MaxQueueSize < 1)
        {
            errors.Add($"'background_lane.max_queue_size' must be >= 1, got {config.BackgroundLane.MaxQueueSize}");
        }

        if (config.BackgroundLane.MaxRowsInFlight < 0)
        {
            errors.Add($"'background_lane.max_rows_in_flight' must be >= 0 (0: the default), got {config.BackgroundLane.MaxRowsInFlight}");
        }

        if (config.Inputs.Count == 0)
        {
            errors.Add("the model has no inputs");
        }

        if (config.Outputs.Count == 0)
        {
            errors.Add("the model has no outputs");
        }

        // A stateful model's control and state tensors are the model's too: checked against its file like the rest.
        if (signature is { Declared: false })
        {
            foreach (var (kind, tensors) in new[] { ("input", config.ModelInputs), ("output", config.ModelOutputs) })
            {
                if (tensors.Count == 0)
                {
                    errors.Add($"the '{config.Backend}' backend's model files do not declare their {kind}s: the configuration must list every {kind} with its data_type and dims");
                }
            }

            signature = null; // the configuration is all there is to check against
        }

        ValidateTensors("input", config.ModelInputs, signature?.Inputs, config.MaxBatchSize > 0, errors);
        ValidateTensors("output", config.ModelOutputs, signature?.Outputs, config.MaxBatchSize > 0, errors);
        ValidateBatching(config, errors);
        ValidateSequences(config, signature, errors);
        ValidatePolicy(config.VersionPolicy, errors);
    }

    private static void ValidateTensors(string kind, IReadOnlyList<TensorConfig> tensors, IReadOnlyList<TensorSignature>? declared, bool batching, List<string> errors)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tensor in tensors)
        {
            var where = $"{kind} '{tensor.Name}'";
            if (!seen.Add(tensor.Name))
            {
                errors.Add($"{where} is listed twice");
            }

            if (tensor.DataType == DataType.Invalid)
            {
                errors.Add($"{where} has no data_type and the model does not declare it");
            }

            if (tensor.Dims.Length > Shapes.MaxRank)
            {
                errors.Add($"{where} has {tensor.Dims.Length} dims; at most {Shapes.MaxRank} are allowed");
            }

            foreach (var dim in tensor.Dims)
            {
                if (dim < -1)
                {
                    errors.Add($"{where} has dim {dim}; dims must be >= 0, or -1 for dynamic");
                    break;
                }
            }

            if (tensor.Reshape is { } reshape && Shapes.TryGetElementCount(tensor.Dims, out var count) &&
                Shapes.TryGetElementCount(reshape, out var reshapeCount) && count != reshapeCount)
            {
                errors.Add($"{where}: reshape {Shapes.Format(reshape)} holds {reshapeCount} elements but dims {Shapes.Format(tensor.Dims)} hold {count}");
            }

            if (declared is null)
            {
                continue;
            }

            var match = declared.FirstOrDefault(t => t.Name == tensor.Name);
            if (match is null)
            {
                errors.Add($"{where} is not an {kind} of the model; the model has {string.Join(", ", declared.Select(t => $"'{t.Name}'"))}");
                continue;
            }

            if (tensor.DataType != DataType.Invalid && match.DataType != tensor.DataType)
            {
                errors.Add($"{where} is configured as {tensor.DataType.ToWireName()} but the model declares {match.DataType.ToWireName()}");
            }

            if (tensor.Reshape is null)
            {
                long[] full = batching ? [-1, .. tensor.Dims] : tensor.Dims;
                if (!Compatible(full, match.Shape))
                {
                    errors.Add($"{where} has shape {Shapes.Format(full)} (with batch dimension: {batching}) but the model declares {Shapes.Format(match.Shape)}");
                }
            }
        }
    }

    private static bool Compatible(long[] configured, long[] declared)
    {
        if (declared.Length == 0)
        {
            return true; // the model file does not record a shape
        }

        if (configured.Length != declared.Length)
        {
            return false;
        }

        for (var i = 0; i < configured.Length; i++)
        {
            if (declared[i] != -1 && configured[i] != -1 && configured[i] != declared[i])
            {
                return false;
            }

            if (declared[i] != -1 && configured[i] == -1)
            {
                return false;
            }
        }

        return true;
    }

    private static void ValidateBatching(ModelConfig config, List<string> errors)
    {
        ValidateQueuePolicy(config.QueuePolicy, "dynamic_batching.default_queue_policy", errors);
        if (config.DynamicBatching is not { } batching)
        {
            return;
        }

        // Without max_batch_size the section still schedules (priorities, queue policies); it just never batches.
        foreach (var size in batching.PreferredBatchSizes)
        {
            if (size < 1 || size > config.MaxBatchSize)
            {
                errors.Add($"'dynamic_batching.preferred_batch_size' {size} must be between 1 and max_batch_size ({config.MaxBatchSize})");
            }
        }

        if (batching.MaxQueueDelayMicroseconds is < 0 or > 10_000_000)
        {
            errors.Add($"'dynamic_batching.max_queue_delay_microseconds' must be between 0 and 10000000, got {batching.MaxQueueDelayMicroseconds}");
        }

        if (batching.PriorityLevels is < 0 or > MaxPriorityLevels)
        {
            errors.Add($"'dynamic_batching.priority_levels' must be between 0 and {MaxPriorityLevels}, got {batching.PriorityLevels}");
        }
        else if (batching.DefaultPriorityLevel < 0 || batching.DefaultPriorityLevel > batching.PriorityLevels)
        {
            errors.Add($"'dynamic_batching.default_priority_level' must be between 1 and priority_levels ({batching.PriorityLevels}), got {batching.DefaultPriorityLevel}");
        }

        foreach (var (level, policy) in batching.PriorityQueuePolicies)
        {
            if (level < 1 || level > batching.PriorityLevels)
            {
                errors.Add($"'dynamic_batching.priority_queue_policy' names level {level}; levels run from 1 to priority_levels ({batching.PriorityLevels})");
            }

            ValidateQueuePolicy(policy, $"dynamic_batching.priority_queue_policy.{level}", errors);
        }

        if (batching.MaxLatencyMilliseconds is < 0 or > 600_000)
        {
            errors.Add($"'dynamic_batching.max_latency_ms' must be between 0 and 600000, got {batching.MaxLatencyMilliseconds}");
        }
    }

    private static void ValidateSequences(ModelConfig config, ModelSignature? signature, List<string> errors)
    {
        if (config.SequenceBatching is not { } sequences)
        {
            return;
        }

        // Every input the model takes must come from somewhere: the client, a control or a state.
        var known = config.ModelInputs.Select(tensor => tensor.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var input in signature?.Inputs.Where(input => !known.Contains(input.Name)) ?? [])
        {
            errors.Add($"model input '{input.Name}' is neither a configured input nor a 'sequence_batching' control or state input");
        }

        if (config.DynamicBatching is not null)
        {
            errors.Add("'dynamic_batching' and 'sequence_batching' cannot both be set: a model has one scheduler");
        }

        if (config.ResponseCache)
        {
            errors.Add("'response_cache' cannot be enabled with 'sequence_batching': a stateful model's answer depends on its sequence, not only on the request");
        }

        foreach (var kind in sequences.Controls.GroupBy(control => control.Kind).Where(group => group.Count() > 1))
        {
            errors.Add($"'sequence_batching.control_input' has {kind.Count()} controls of kind {kind.Key}; at most one is allowed");
        }

        foreach (var state in sequences.States)
        {
            if (state.DataType == DataType.Bytes || state.Dims.Any(dim => dim < 1))
            {
                errors.Add($"state '{state.InputName}' must have a fixed-size data type and fixed dims (each >= 1); Turbine keeps states of a fixed size");
            }
        }

        if (sequences.MaxSequenceIdleMicroseconds > MaxSequenceIdleMicroseconds)
        {
            errors.Add($"'sequence_batching.max_sequence_idle_microseconds' must be at most {MaxSequenceIdleMicroseconds} (a day), got {sequences.MaxSequenceIdleMicroseconds}");
        }

        if (sequences.MaxQueueDelayMicroseconds is < 0 or > 10_000_000)
        {
            errors.Add($"the sequence batcher's 'max_queue_delay_microseconds' must be between 0 and 10000000, got {sequences.MaxQueueDelayMicroseconds}");
        }

        if (sequences.MinimumSlotUtilization is < 0 or > 1)
        {
            errors.Add($"'sequence_batching.direct.minimum_slot_utilization' must be between 0 and 1, got {sequences.MinimumSlotUtilization}");
        }

        foreach (var size in sequences.PreferredBatchSizes.Where(size => size < 1 || size > Math.Max(1, config.MaxBatchSize)))
        {
            errors.Add($"'sequence_batching.oldest.preferred_batch_size' {size} must be between 1 and max_batch_size ({config.MaxBatchSize})");
        }
    }

    private static void ValidateQueuePolicy(QueuePolicyConfig policy, string where, List<string> errors)
    {
        if (policy.DefaultTimeoutMicroseconds < 0)
        {
            errors.Add($"'{where}.default_timeout_microseconds' must be >= 0");
        }

        if (policy.MaxQueueSize < 0)
        {
            errors.Add($"'{where}.max_queue_size' must be >= 0");
        }
    }

    private static void ValidatePolicy(VersionPolicy policy, List<string> errors)
    {
        if (policy.Kind == "latest" && policy.Latest < 1)
        {
            errors.Add($"'version_policy.latest.num_versions' must be >= 1, got {policy.Latest}");
        }

        if (policy.Kind == "specific" && (policy.Versions is null || policy.Versions.Length == 0 || policy.Versions.Any(v => v < 1)))
        {
            errors.Add("'version_policy.specific.versions' must list positive version numbers");
        }
    }
}
