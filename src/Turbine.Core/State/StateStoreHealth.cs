namespace Turbine.Core.State;

/// <summary>
/// Failed reads and writes of shared state (the state directory, or the database behind it), for the metric and the
/// log. A failure never stops the host or fails a request: what could not be written is kept and written again.
/// </summary>
public sealed class StateStoreHealth
{
    private long _failures;
    private int _failing;

    /// <summary>Failures since the process started.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Whether the last attempt failed.</summary>
    public bool IsFailing => Volatile.Read(ref _failing) == 1;

    /// <summary>Counts <paramref name="failed"/> failures of one attempt (0: it succeeded).</summary>
    /// <returns>Whether this attempt changed the store's state: it started failing, or it recovered.</returns>
    public bool Record(int failed)
    {
        if (failed > 0)
        {
            Interlocked.Add(ref _failures, failed);
        }

        var now = failed > 0 ? 1 : 0;
        return Interlocked.Exchange(ref _failing, now) != now;
    }
}
