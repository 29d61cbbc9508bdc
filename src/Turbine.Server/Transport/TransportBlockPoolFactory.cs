using System.Buffers;
using Microsoft.AspNetCore.Connections;

namespace Turbine.Server.Transport;

/// <summary>
/// Gives Kestrel's transports <see cref="TransportBlockPool"/>s (one per listener) in place of its pinned block pools,
/// and sums what they keep for the <c>turbine_transport_pool_bytes</c> metric.
/// </summary>
internal sealed class TransportBlockPoolFactory(TimeProvider time) : IMemoryPoolFactory<byte>
{
    private readonly Lock _gate = new();
    private readonly List<TransportBlockPool> _pools = [];

    /// <summary>Bytes that the live pools keep free for reuse.</summary>
    public long PooledBytes
    {
        get
        {
            lock (_gate)
            {
                return _pools.Sum(pool => pool.PooledBytes);
            }
        }
    }

    public MemoryPool<byte> Create(MemoryPoolOptions? options = null)
    {
        var pool = new TransportBlockPool(time, Forget);
        lock (_gate)
        {
            _pools.Add(pool);
        }

        return pool;
    }

    private void Forget(TransportBlockPool pool)
    {
        lock (_gate)
        {
            _pools.Remove(pool);
        }
    }
}
