namespace Turbine.Core.Caching;

/// <summary>
/// Identical requests (the response cache's key) to a deterministic model that arrive while the first is still running
/// share its run: the first leads, the others follow and each gets its own copy of the leader's outputs. A lead that
/// fails (its client left, its deadline passed, the queue was full) lands with nothing, and each follower then runs on
/// its own: a follower never inherits another caller's failure.
/// </summary>
public sealed class RequestCoalescer
{
    private readonly Dictionary<string, Flight> _flights = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private long _followers;

    /// <summary>Requests answered from another's run so far.</summary>
    public long Followers => Interlocked.Read(ref _followers);

    /// <summary>Joins the run of an identical request in flight (<paramref name="lead"/> false), or starts one.</summary>
    public Flight Join(string key, out bool lead)
    {
        lock (_gate)
        {
            if (_flights.TryGetValue(key, out var flight))
            {
                lead = false;
                return flight;
            }

            lead = true;
            return _flights[key] = new Flight(key);
        }
    }

    /// <summary>Ends the lead's run: its outputs (kept for the followers) or, on failure, null.</summary>
    public void Land(Flight flight, IReadOnlyList<Tensor>? outputs)
    {
        ArgumentNullException.ThrowIfNull(flight);
        lock (_gate)
        {
            _flights.Remove(flight.Key);
        }

        flight.Land(outputs is null ? null : StoredOutput.Keep(outputs));
    }

    /// <summary>The follower's copies of the lead's outputs, or null when the lead failed.</summary>
    public async ValueTask<List<Tensor>?> FollowAsync(Flight flight, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(flight);
        var stored = await flight.Landed.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (stored is null)
        {
            return null;
        }

        Interlocked.Increment(ref _followers);
        return StoredOutput.Copies(stored);
    }

    /// <summary>One run that identical requests share.</summary>
    public sealed class Flight
    {
        private readonly TaskCompletionSource<StoredOutput[]?> _landed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        internal Flight(string key) => Key = key;

        internal string Key { get; }

        internal Task<StoredOutput[]?> Landed => _landed.Task;

        internal void Land(StoredOutput[]? outputs) => _landed.TrySetResult(outputs);
    }
}
