using System.Collections.Concurrent;

namespace Turbine.Traffic.Pipelines;

/// <summary>What a pipeline did: whole requests, and each step's executions and time; cascades add how far requests went.</summary>
public sealed class PipelineStatistics
{
    internal PipelineStatistics(PipelineDefinition definition) =>
        Steps = definition.Steps.ToDictionary(s => s.Name, s => new StepStatistics(s is CascadeStep cascade ? cascade.Stages.Count : 0), StringComparer.Ordinal);

    /// <summary>Whole requests, in a model's statistics so that the pipeline can stand where a model does (metadata, ready).</summary>
    public ModelStatistics Requests { get; } = new();

    /// <summary>Requests answered, and their whole time in the pipeline.</summary>
    public DurationCounter Success => Requests.Success;

    /// <summary>Requests that failed, and their time.</summary>
    public DurationCounter Fail => Requests.Fail;

    /// <summary>Each step's figures, by step name.</summary>
    public IReadOnlyDictionary<string, StepStatistics> Steps { get; }
}

/// <summary>One step's executions and time; for a cascade, which stage answered; for a switch, which case was taken.</summary>
public sealed class StepStatistics
{
    private readonly long[] _answeredByStage;

    internal StepStatistics(int stages) => _answeredByStage = new long[stages];

    /// <summary>Executions that succeeded, and their time (every stage of a cascade included).</summary>
    public DurationCounter Success { get; } = new();

    /// <summary>Executions that failed, and their time.</summary>
    public DurationCounter Fail { get; } = new();

    /// <summary>For a switch: how often each case (or "default") was taken.</summary>
    public ConcurrentDictionary<string, long> Cases { get; } = new(StringComparer.Ordinal);

    /// <summary>For a cascade: how many rows stage <paramref name="index"/> answered (a request of one row is one).</summary>
    public long AnsweredByStage(int index) => Volatile.Read(ref _answeredByStage[index]);

    /// <summary>For a cascade: the stages, from 0.</summary>
    public int Stages => _answeredByStage.Length;

    /// <summary>For a cascade: the share of answered rows that went past the first stage.</summary>
    public double EscalatedShare
    {
        get
        {
            var total = 0L;
            for (var i = 0; i < _answeredByStage.Length; i++)
            {
                total += AnsweredByStage(i);
            }

            return total == 0 ? 0 : (double)(total - AnsweredByStage(0)) / total;
        }
    }

    internal void Answered(int stage, long rows) => Interlocked.Add(ref _answeredByStage[stage], rows);
}
