namespace Turbine.Server.Dashboard;

/// <summary>
/// The latest snapshots (an hour of them at the default interval) in a ring, so that a page opened late still draws
/// its charts from the start of the hour; and a signal that a stream awaits for the next one.
/// </summary>
internal sealed class SnapshotHistory(int capacity)
{
    private readonly DashboardSnapshot[] _ring = new DashboardSnapshot[capacity];
    private readonly Lock _gate = new();
    private int _count;
    private int _next;
    private TaskCompletionSource<DashboardSnapshot> _arrival = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The newest snapshot, if any was taken.</summary>
    public DashboardSnapshot? Latest
    {
        get
        {
            lock (_gate)
            {
                return _count == 0 ? null : _ring[(_next - 1 + _ring.Length) % _ring.Length];
            }
        }
    }

    public void Add(DashboardSnapshot snapshot)
    {
        TaskCompletionSource<DashboardSnapshot> arrived;
        lock (_gate)
        {
            _ring[_next] = snapshot;
            _next = (_next + 1) % _ring.Length;
            _count = Math.Min(_count + 1, _ring.Length);
            arrived = _arrival;
            _arrival = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        arrived.TrySetResult(snapshot);
    }

    /// <summary>The snapshots taken at or after <paramref name="sinceMs"/> (Unix milliseconds), oldest first.</summary>
    public List<DashboardSnapshot> Since(long sinceMs)
    {
        lock (_gate)
        {
            var result = new List<DashboardSnapshot>(_count);
            for (var i = 0; i < _count; i++)
            {
                var snapshot = _ring[(_next - _count + i + _ring.Length) % _ring.Length];
                if (snapshot.Time >= sinceMs)
                {
                    result.Add(snapshot);
                }
            }

            return result;
        }
    }

    /// <summary>Completes with the next snapshot added.</summary>
    public Task<DashboardSnapshot> NextAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _arrival.Task.WaitAsync(cancellationToken);
        }
    }
}
