namespace Turbine.Llm.Engine;

/// <summary>
/// What a generation engine has done, for its metrics (the figures vLLM reports): latency histograms (time to first
/// token, between tokens, queued before the first pass, end to end), token counters, finishes by reason, and the
/// waiting and running sequences now. Written by the engine's loop, read from anywhere.
/// </summary>
public sealed class EngineStatistics
{
    private long _promptTokens;
    private long _generationTokens;
    private long _finishedStop;
    private long _finishedLength;
    private long _aborted;
    private int _running;
    private long _busyNanoseconds;
    private int _waiting;

    /// <summary>From submission to the first generated token.</summary>
    public DurationCounter TimeToFirstToken { get; } = new();

    /// <summary>Between consecutive tokens of one sequence.</summary>
    public DurationCounter InterTokenLatency { get; } = new();

    /// <summary>From submission to the first forward pass that included the sequence.</summary>
    public DurationCounter QueueTime { get; } = new();

    /// <summary>From submission to the last token.</summary>
    public DurationCounter EndToEnd { get; } = new();

    /// <summary>Prompt tokens of admitted requests (recomputed ones after a preemption not counted again).</summary>
    public long PromptTokens => Volatile.Read(ref _promptTokens);

    /// <summary>Tokens generated.</summary>
    public long GenerationTokens => Volatile.Read(ref _generationTokens);

    /// <summary>Sequences that ended on a stop token.</summary>
    public long FinishedStop => Volatile.Read(ref _finishedStop);

    /// <summary>Sequences that ended at <c>max_tokens</c> or the context.</summary>
    public long FinishedLength => Volatile.Read(ref _finishedLength);

    /// <summary>Sequences cancelled or failed before their end.</summary>
    public long Aborted => Volatile.Read(ref _aborted);

    /// <summary>Sequences in the running batch now.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>Sequences waiting for the cache or a place in the batch now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    internal void Admitted(int promptTokens) => Interlocked.Add(ref _promptTokens, promptTokens);

    internal void Generated() => Interlocked.Increment(ref _generationTokens);

    /// <summary>Time the decoder spent running steps (prefill and decode), however many sequences each held: what the engine's compute cost.</summary>
    public long BusyNanoseconds => Interlocked.Read(ref _busyNanoseconds);

    internal void Busy(long nanoseconds) => Interlocked.Add(ref _busyNanoseconds, nanoseconds);

    internal void Finished(FinishReason? reason)
    {
        switch (reason)
        {
            case FinishReason.Stop: Interlocked.Increment(ref _finishedStop); break;
            case FinishReason.Length: Interlocked.Increment(ref _finishedLength); break;
            default: Interlocked.Increment(ref _aborted); break;
        }
    }

    internal void Occupancy(int running, int waiting)
    {
        Volatile.Write(ref _running, running);
        Volatile.Write(ref _waiting, waiting);
    }
}
