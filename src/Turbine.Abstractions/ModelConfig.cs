namespace Turbine;

/// <summary>One input or output in a model configuration.</summary>
/// <param name="Name">The tensor name in the model.</param>
/// <param name="DataType">The element type.</param>
/// <param name="Dims">Dimensions without the batch dimension when the model batches; -1 is dynamic.</param>
/// <param name="Reshape">Optional shape the tensor is reshaped to before it reaches the model.</param>
/// <param name="LabelFile">An output's class labels: a file in the model's folder, one label per line (Triton's <c>label_filename</c>).</param>
/// <param name="Optional">An input a request may leave out (Triton's <c>optional</c>); only backends with runners of their own honour it.</param>
public sealed record TensorConfig(string Name, DataType DataType, long[] Dims, long[]? Reshape = null, string? LabelFile = null, bool Optional = false);

/// <summary>Which versions of a model are served (Triton's version_policy).</summary>
/// <param name="Kind">latest, all or specific.</param>
/// <param name="Latest">How many of the newest versions, for <c>latest</c>.</param>
/// <param name="Versions">The versions, for <c>specific</c>.</param>
public sealed record VersionPolicy(string Kind = "latest", int Latest = 1, long[]? Versions = null)
{
    /// <summary>The default policy: the one newest version.</summary>
    public static VersionPolicy Default { get; } = new();
}

/// <summary>How long requests may wait in the queue (Triton's <c>ModelQueuePolicy</c>).</summary>
/// <param name="DefaultTimeoutMicroseconds">Queue timeout of a request that names none; 0 means no timeout.</param>
/// <param name="AllowTimeoutOverride">Whether a request's own <c>timeout</c> parameter (microseconds) is honoured.</param>
/// <param name="RejectOnTimeout">
/// REJECT (true): an expired request is dropped before it runs; DELAY (false): it still runs, but after the requests
/// of its priority level that have not expired.
/// </param>
/// <param name="MaxQueueSize">Most requests of this priority level that may wait at once; 0 leaves only the model's bound.</param>
public sealed record QueuePolicyConfig(long DefaultTimeoutMicroseconds = 0, bool AllowTimeoutOverride = false, bool RejectOnTimeout = true, int MaxQueueSize = 0)
{
    /// <summary>No timeouts.</summary>
    public static QueuePolicyConfig None { get; } = new();
}

/// <summary>
/// Dynamic batching and queue scheduling (Triton's <c>dynamic_batching</c>): queued requests are run together as
/// one batch, taken by priority.
/// </summary>
public sealed record DynamicBatchingConfig
{
    /// <summary>Batch sizes (in rows) worth waiting for; empty means max_batch_size.</summary>
    public IReadOnlyList<int> PreferredBatchSizes { get; init; } = [];

    /// <summary>How long the first request of a batch may wait for others to join.</summary>
    public long MaxQueueDelayMicroseconds { get; init; }

    /// <summary>Whether responses are released in the order the scheduler took the requests, across instances too.</summary>
    public bool PreserveOrdering { get; init; }

    /// <summary>How many priority levels there are (1 is the highest); 0 means one level for everything.</summary>
    public int PriorityLevels { get; init; }

    /// <summary>The level of a request that names none; 0 means the lowest level.</summary>
    public int DefaultPriorityLevel { get; init; }

    /// <summary>Queue policies of single priority levels; levels not listed use the model's default policy.</summary>
    public IReadOnlyDictionary<int, QueuePolicyConfig> PriorityQueuePolicies { get; init; } = new Dictionary<int, QueuePolicyConfig>();

    /// <summary>
    /// Turbine's latency target in milliseconds; 0 turns latency-aware batching off. When set, the batcher learns
    /// the cost of each batch size, waits only as long as the target allows, and refuses at once (503) a request
    /// that it predicts cannot finish in time.
    /// </summary>
    public double MaxLatencyMilliseconds { get; init; }
}

/// <summary>An immutable, validated model configuration.</summary>
public sealed record ModelConfig
{
    /// <summary>The model's name (its folder name).</summary>
    public required string Name { get; init; }

    /// <summary>The backend that runs it, e.g. <c>onnxruntime</c>.</summary>
    public string Backend { get; init; } = "onnxruntime";

    /// <summary>Largest batch the model accepts along its first dimension; 0 means the model does not batch.</summary>
    public int MaxBatchSize { get; init; }

    /// <summary>The inputs.</summary>
    public IReadOnlyList<TensorConfig> Inputs { get; init; } = [];

    /// <summary>The outputs.</summary>
    public IReadOnlyList<TensorConfig> Outputs { get; init; } = [];

    /// <summary>The model file each version folder holds: <c>default_model_filename</c>, else the backend's (<c>model.onnx</c>).</summary>
    public string? ModelFileName { get; init; }

    /// <summary>
    /// The configuration file as written (Triton's JSON form; a <c>config.pbtxt</c> converted to it), null when the model
    /// has none: the config endpoints hand back the fields Turbine does not act on (<c>format</c>, <c>parameters</c>,
    /// <c>optimization</c>, ...) for the clients that read them.
    /// </summary>
    public string? SourceJson { get; init; }

    /// <summary>Class labels of the outputs that name a label file, by output name (the classification extension).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Labels { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>How many instances (sessions) run side by side.</summary>
    public int InstanceCount { get; init; } = 1;

    /// <summary>
    /// The GPU of each instance, by instance index, from the <c>KIND_GPU</c> instance groups (<c>count</c> instances on
    /// each device of <c>gpus</c>, device 0 when it is absent); -1 for an instance of a CPU or AUTO group; empty when no
    /// group asks for a GPU.
    /// </summary>
    public IReadOnlyList<int> InstanceDevices { get; init; } = [];

    /// <summary>The backend's own settings, read by the backend from the section named after it (<c>onnxruntime</c>).</summary>
    public BackendSettings Settings { get; init; } = BackendSettings.None;

    /// <summary>Which versions are served.</summary>
    public VersionPolicy VersionPolicy { get; init; } = VersionPolicy.Default;

    /// <summary>The default queue policy: timeouts, and the bound of each priority level unless it names its own.</summary>
    public QueuePolicyConfig QueuePolicy { get; init; } = QueuePolicyConfig.None;

    /// <summary>Dynamic batching, or null to run each request on its own.</summary>
    public DynamicBatchingConfig? DynamicBatching { get; init; }

    /// <summary>The sequence batcher, for stateful models whose requests belong to sequences; null for stateless models.</summary>
    public SequenceBatchingConfig? SequenceBatching { get; init; }

    /// <summary>Every input the model itself takes: the client's, then the sequence batcher's controls and states.</summary>
    public IReadOnlyList<TensorConfig> ModelInputs => SequenceBatching is { } sequences ? [.. Inputs, .. sequences.HiddenInputs()] : Inputs;

    /// <summary>Every output the model itself gives: the client's, then the sequence batcher's states.</summary>
    public IReadOnlyList<TensorConfig> ModelOutputs => SequenceBatching is { } sequences ? [.. Outputs, .. sequences.StateOutputs()] : Outputs;

    /// <summary>Bound of the per-version request queue; a full queue answers at once with an error.</summary>
    public int MaxQueueSize { get; init; } = 1024;

    /// <summary>The bounds of the background lane (bulk work that waits behind every online request).</summary>
    public BackgroundLaneConfig BackgroundLane { get; init; } = BackgroundLaneConfig.Default;

    /// <summary>Whether identical requests are answered from the server's response cache (Triton's <c>response_cache.enable</c>).</summary>
    public bool ResponseCache { get; init; }

    /// <summary>Requests run before a new version takes traffic.</summary>
    public IReadOnlyList<WarmupSample> Warmup { get; init; } = [];

    /// <summary>The full shape of a tensor as the client sends it: the batch dimension prepended when batching.</summary>
    public long[] FullShape(TensorConfig tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return MaxBatchSize > 0 ? [-1, .. tensor.Dims] : tensor.Dims;
    }
}

/// <summary>Where the data of a warm-up input comes from.</summary>
public enum WarmupDataKind
{
    /// <summary>All zeros (empty strings for BYTES).</summary>
    Zero,

    /// <summary>Random values (random 8-byte strings for BYTES).</summary>
    Random,

    /// <summary>Raw bytes from a file in the model's <c>warmup/</c> folder (BYTES as 4-byte length-prefixed elements).</summary>
    File,
}

/// <summary>One input of a warm-up sample (Triton's <c>model_warmup.inputs</c> entry).</summary>
/// <param name="Name">The input name.</param>
/// <param name="DataType">The element type.</param>
/// <param name="Dims">The shape without the batch dimension.</param>
/// <param name="Data">Where the values come from.</param>
/// <param name="File">For <see cref="WarmupDataKind.File"/>: the file name inside the model's <c>warmup/</c> folder.</param>
public sealed record WarmupInput(string Name, DataType DataType, long[] Dims, WarmupDataKind Data, string? File = null);

/// <summary>
/// A request run against a freshly loaded version before it takes traffic (Triton's <c>model_warmup</c>), so that the
/// first clients do not pay for lazy initialisation. A failing sample fails the load.
/// </summary>
/// <param name="Name">The sample's name, used in errors.</param>
/// <param name="BatchSize">Rows per request when the model batches; ignored otherwise.</param>
/// <param name="Inputs">The inputs.</param>
/// <param name="Count">How many times the sample runs.</param>
public sealed record WarmupSample(string Name, int BatchSize, IReadOnlyList<WarmupInput> Inputs, int Count);

/// <summary>The background lane of a model version's queue (<c>background_lane</c> in config.json; a Turbine extension).</summary>
/// <param name="MaxQueueSize">Most background requests waiting at once, on top of the online bound.</param>
/// <param name="MaxRowsInFlight">
/// Most background rows running at once over all instances; 0 picks the default: the rows of one full batch on every
/// instance but one, or one row when the model has one instance, so that online traffic always finds an instance free
/// or about to be.
/// </param>
public sealed record BackgroundLaneConfig(int MaxQueueSize = 1024, long MaxRowsInFlight = 0)
{
    /// <summary>The defaults.</summary>
    public static BackgroundLaneConfig Default { get; } = new();
}
