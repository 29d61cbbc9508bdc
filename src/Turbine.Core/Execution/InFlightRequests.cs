namespace Turbine.Core.Execution;

/// <summary>
/// Counts the requests a runner of its own kind has in flight, so that retiring it waits for them (the drain every
/// <see cref="IVersionRunner"/> owes a reload or an unload) and a request that arrives after the retirement is refused.
/// </summary>
internal sealed class InFlightRequests
{
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _count;
    private int _retired;

    /// <summary>Whether the runner has stopped taking requests.</summary>
    public bool IsRetired => Volatile.Read(ref _retired) != 0;

    /// <summary>Counts a request in; false (and nothing counted) once the runner is retired.</summary>
    public bool TryEnter()
    {
        Interlocked.Increment(ref _count);
        if (!IsRetired)
        {
            return true;
        }

        Exit();
        return false;
    }

    /// <summary>Counts a request out; the last one out of a retired runner ends its drain.</summary>
    public void Exit()
    {
        if (Interlocked.Decrement(ref _count) == 0 && IsRetired)
        {
            _drained.TrySetResult();
        }
    }

    /// <summary>Refuses new requests and completes once the ones in flight are out.</summary>
    public Task RetireAsync()
    {
        Interlocked.Exchange(ref _retired, 1);
        return Volatile.Read(ref _count) == 0 ? Task.CompletedTask : _drained.Task;
    }
}
