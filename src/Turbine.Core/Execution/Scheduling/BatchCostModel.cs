namespace Turbine.Core.Execution.Scheduling;

/// <summary>
/// Learns what a batch costs from the model's recent executions: a least-squares line, time = fixed + rows x per-row,
/// over a sliding window, so it follows the model as load and machine change. Used by latency-aware batching.
/// </summary>
internal sealed class BatchCostModel
{
    /// <summary>Fewer executions than this say too little; the scheduler then does not predict.</summary>
    public const int MinimumSamples = 4;

    private const int Window = 64;
    private readonly Lock _lock = new();
    private readonly long[] _rows = new long[Window];
    private readonly long[] _ticks = new long[Window];
    private int _next;
    private int _count;
    private double _fixedTicks;
    private double _ticksPerRow;

    /// <summary>Adds one execution of <paramref name="rows"/> rows that took <paramref name="ticks"/> timestamp ticks.</summary>
    public void Record(long rows, long ticks)
    {
        lock (_lock)
        {
            _rows[_next] = rows;
            _ticks[_next] = ticks;
            _next = (_next + 1) % Window;
            _count = Math.Min(_count + 1, Window);
            Fit();
        }
    }

    /// <summary>The predicted ticks of a batch of <paramref name="rows"/> rows; false until enough executions were seen.</summary>
    public bool TryEstimate(long rows, out long ticks)
    {
        lock (_lock)
        {
            ticks = (long)Math.Ceiling(_fixedTicks + (_ticksPerRow * rows));
            return _count >= MinimumSamples;
        }
    }

    private void Fit()
    {
        double meanRows = 0, meanTicks = 0;
        for (var i = 0; i < _count; i++)
        {
            meanRows += _rows[i];
            meanTicks += _ticks[i];
        }

        meanRows /= _count;
        meanTicks /= _count;
        double covariance = 0, variance = 0;
        for (var i = 0; i < _count; i++)
        {
            covariance += (_rows[i] - meanRows) * (_ticks[i] - meanTicks);
            variance += (_rows[i] - meanRows) * (_rows[i] - meanRows);
        }

        if (variance == 0 || covariance <= 0)
        {
            // All batches had one size (or bigger ones were not slower): a flat cost is the honest guess, and it does
            // not claim that a smaller batch would be cheaper.
            _fixedTicks = meanTicks;
            _ticksPerRow = 0;
            return;
        }

        _ticksPerRow = covariance / variance;
        _fixedTicks = Math.Max(0, meanTicks - (_ticksPerRow * meanRows));
    }
}
