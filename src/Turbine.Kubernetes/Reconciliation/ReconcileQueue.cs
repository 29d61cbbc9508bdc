using System.Threading.Channels;

namespace Turbine.Kubernetes.Reconciliation;

/// <summary>
/// The models waiting for a reconcile, each at most once however many events named it, and failed ones again after a
/// backoff that doubles from one second to five minutes (reset by a success).
/// </summary>
internal sealed class ReconcileQueue(TimeProvider time)
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LastRetry = TimeSpan.FromMinutes(5);
    private readonly Channel<ModelKey> _ready = Channel.CreateUnbounded<ModelKey>();
    private readonly HashSet<ModelKey> _waiting = [];
    private readonly Dictionary<ModelKey, int> _failures = [];
    private readonly Lock _lock = new();

    public void Add(ModelKey key)
    {
        lock (_lock)
        {
            if (!_waiting.Add(key))
            {
                return;
            }
        }

        _ready.Writer.TryWrite(key);
    }

    /// <summary>The next model to reconcile; it may be added again from then on.</summary>
    public async ValueTask<ModelKey> TakeAsync(CancellationToken cancellationToken)
    {
        var key = await _ready.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        lock (_lock)
        {
            _waiting.Remove(key);
        }

        return key;
    }

    public void Succeeded(ModelKey key)
    {
        lock (_lock)
        {
            _failures.Remove(key);
        }
    }

    /// <summary>Adds the model again after its backoff; returns the delay.</summary>
    public TimeSpan Failed(ModelKey key)
    {
        TimeSpan delay;
        lock (_lock)
        {
            var failures = _failures.GetValueOrDefault(key);
            _failures[key] = failures + 1;
            delay = TimeSpan.FromTicks(Math.Min(LastRetry.Ticks, FirstRetry.Ticks << Math.Min(failures, 20)));
        }

        ITimer? timer = null;
        timer = time.CreateTimer(_ => { Add(key); timer?.Dispose(); }, null, delay, Timeout.InfiniteTimeSpan);
        return delay;
    }
}

/// <summary>A model by namespace and name.</summary>
public readonly record struct ModelKey(string Namespace, string Name)
{
    /// <inheritdoc />
    public override string ToString() => $"{Namespace}/{Name}";
}
