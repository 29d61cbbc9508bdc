namespace Turbine;

/// <summary>How the sequence batcher places sequences on instances (Triton's <c>direct</c> and <c>oldest</c>).</summary>
public enum SequenceStrategy
{
    /// <summary>
    /// Each sequence owns one batch slot (a row) of one instance for its whole life; a batch holds every slot of its
    /// instance up to the last one with work, and slots without a request run as rows whose READY control is false.
    /// For models that keep per-slot state themselves.
    /// </summary>
    Direct,

    /// <summary>
    /// Any instance runs the next requests of the sequences with the oldest waiting requests, one row per sequence,
    /// in compact batches; the sequence's state travels with it (implicit state).
    /// </summary>
    Oldest,
}

/// <summary>What a control input tells the model.</summary>
public enum SequenceControlKind
{
    /// <summary>The request starts its sequence (<c>CONTROL_SEQUENCE_START</c>).</summary>
    Start,

    /// <summary>The request ends its sequence (<c>CONTROL_SEQUENCE_END</c>).</summary>
    End,

    /// <summary>The row holds a request; false for the idle slots of a direct batch (<c>CONTROL_SEQUENCE_READY</c>).</summary>
    Ready,

    /// <summary>The sequence's correlation id (<c>CONTROL_SEQUENCE_CORRID</c>).</summary>
    CorrelationId,
}

/// <summary>One control input: a model input that the sequence batcher fills for every row instead of the client.</summary>
/// <param name="InputName">The model input.</param>
/// <param name="Kind">What it tells.</param>
/// <param name="DataType">INT32, FP32 or BOOL for flags; the correlation id's type for <see cref="SequenceControlKind.CorrelationId"/>.</param>
/// <param name="FalseValue">The value written for false (<c>int32_false_true[0]</c>, <c>fp32_false_true[0]</c>).</param>
/// <param name="TrueValue">The value written for true.</param>
public sealed record SequenceControl(string InputName, SequenceControlKind Kind, DataType DataType, double FalseValue = 0, double TrueValue = 1);

/// <summary>
/// Implicit state (Triton's <c>state</c>): the model's <paramref name="OutputName"/> after one request of a sequence
/// is fed back as its <paramref name="InputName"/> on the next; a sequence starts from <paramref name="InitialData"/>.
/// </summary>
/// <param name="InputName">The model input that receives the state.</param>
/// <param name="OutputName">The model output that produces the next state.</param>
/// <param name="DataType">The element type (fixed-size types only).</param>
/// <param name="Dims">The state's shape without the batch dimension; fixed.</param>
/// <param name="InitialData">The raw bytes a sequence starts from (<c>initial_state</c> with a <c>data_file</c>); null means zeros.</param>
/// <param name="InitialFile">The <c>data_file</c> those bytes were read from, in the model's <c>initial_state/</c> folder.</param>
public sealed record SequenceState(string InputName, string OutputName, DataType DataType, long[] Dims, byte[]? InitialData = null, string? InitialFile = null)
{
    /// <summary>Bytes of one row of the state.</summary>
    public int RowBytes => Shapes.TryGetElementCount(Dims, out var elements) ? (int)(elements * DataType.ElementSize()) : 0;
}

/// <summary>
/// The sequence batcher (Triton's <c>sequence_batching</c>): requests that carry a correlation id belong to a
/// sequence, run in order one at a time, with control inputs and implicit state filled in by the server.
/// </summary>
public sealed record SequenceBatchingConfig
{
    /// <summary>Triton's default for <c>max_sequence_idle_microseconds</c>: one second.</summary>
    public const long DefaultMaxSequenceIdleMicroseconds = 1_000_000;

    /// <summary>The default for <c>oldest.max_candidate_sequences</c> when the config leaves it out.</summary>
    public const int DefaultMaxCandidateSequences = 1024;

    /// <summary>How sequences are placed on instances.</summary>
    public SequenceStrategy Strategy { get; init; } = SequenceStrategy.Direct;

    /// <summary>A sequence with no request for this long is ended and its slot given to another.</summary>
    public long MaxSequenceIdleMicroseconds { get; init; } = DefaultMaxSequenceIdleMicroseconds;

    /// <summary>The control inputs.</summary>
    public IReadOnlyList<SequenceControl> Controls { get; init; } = [];

    /// <summary>The implicit states.</summary>
    public IReadOnlyList<SequenceState> States { get; init; } = [];

    /// <summary>How long a batch may wait for more requests before it runs (both strategies).</summary>
    public long MaxQueueDelayMicroseconds { get; init; }

    /// <summary>Direct: the share of an instance's slots with work that a batch waits for, up to the queue delay.</summary>
    public double MinimumSlotUtilization { get; init; }

    /// <summary>Oldest: how many sequences may hold a candidate place at once; later ones wait in the backlog.</summary>
    public int MaxCandidateSequences { get; init; } = DefaultMaxCandidateSequences;

    /// <summary>Oldest: batch sizes worth waiting for, up to the queue delay.</summary>
    public IReadOnlyList<int> PreferredBatchSizes { get; init; } = [];

    /// <summary>The inputs the batcher fills: controls, then state inputs, each as the model sees it.</summary>
    public IEnumerable<TensorConfig> HiddenInputs()
    {
        foreach (var control in Controls)
        {
            yield return new TensorConfig(control.InputName, control.DataType, [1]);
        }

        foreach (var state in States)
        {
            yield return new TensorConfig(state.InputName, state.DataType, state.Dims);
        }
    }

    /// <summary>The outputs the batcher keeps as state instead of answering with them.</summary>
    public IEnumerable<TensorConfig> StateOutputs()
    {
        foreach (var state in States)
        {
            yield return new TensorConfig(state.OutputName, state.DataType, state.Dims);
        }
    }
}
