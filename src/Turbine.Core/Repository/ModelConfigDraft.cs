namespace Turbine.Core.Repository;

/// <summary>
/// A model configuration as written on disk: every field optional, because a missing or partial config is
/// completed from the model file itself (<see cref="ModelConfigCompleter"/>).
/// </summary>
internal sealed record ModelConfigDraft
{
    public string? Name { get; init; }

    public string? Backend { get; init; }

    public string? Platform { get; init; }

    public int? MaxBatchSize { get; init; }

    public IReadOnlyList<TensorConfigDraft>? Inputs { get; init; }

    public IReadOnlyList<TensorConfigDraft>? Outputs { get; init; }

    public int? InstanceCount { get; init; }

    /// <summary>The GPU of each instance (<see cref="ModelConfig.InstanceDevices"/>).</summary>
    public IReadOnlyList<int> InstanceDevices { get; init; } = [];

    /// <summary>The first instance group that asks for a GPU, by its place (<c>instance_group[0]</c>); null when none does.</summary>
    public string? GpuGroup { get; init; }

    public VersionPolicy? VersionPolicy { get; init; }

    public int? MaxQueueSize { get; init; }

    public BackgroundLaneConfig? BackgroundLane { get; init; }

    public DynamicBatchingConfig? DynamicBatching { get; init; }

    public QueuePolicyConfig? QueuePolicy { get; init; }

    public SequenceBatchingConfig? SequenceBatching { get; init; }

    /// <summary>For each state of <see cref="SequenceBatching"/> (by index) that starts from a file, the file's name in <c>initial_state/</c>.</summary>
    public IReadOnlyDictionary<int, string> SequenceInitialFiles { get; init; } = new Dictionary<int, string>();

    public IReadOnlyList<WarmupSample>? Warmup { get; init; }

    public bool? ResponseCache { get; init; }

    /// <summary>Triton's <c>default_model_filename</c>: the model file's name in each version folder.</summary>
    public string? DefaultModelFileName { get; init; }

    /// <summary>The whole configuration, for the backend's own section and the fields Turbine does not act on.</summary>
    public System.Text.Json.JsonElement? Root { get; init; }
}

/// <summary>One input or output as written on disk; type and dims may be left to the model file.</summary>
internal sealed record TensorConfigDraft(string Name, DataType? DataType, long[]? Dims, long[]? Reshape, string? LabelFile = null, bool? Optional = null);
