using StackExchange.Redis;
using Turbine.Core.Caching;

namespace Turbine.Server.Caching;

/// <summary>
/// The shared cache on Redis (StackExchange.Redis). Keys are <c>turbine:cache:&lt;sha256&gt;</c> with a time to live;
/// writes are fire-and-forget. Redis being down, slow or restarted costs hits, never requests: while disconnected a
/// lookup is an immediate miss, a failed or late read (past <see cref="ReadTimeout"/>) is a miss, both are counted in
/// <see cref="Errors"/>, and the client reconnects by itself.
/// </summary>
public sealed class RedisResponseStore : ISharedResponseStore, IDisposable
{
    /// <summary>How long a lookup may take before the request goes on as a miss.</summary>
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromMilliseconds(250);

    private const string Prefix = "turbine:cache:";
    private readonly ConnectionMultiplexer _redis;
    private readonly TimeSpan _lifetime;
    private long _errors;

    /// <summary>Connects (in the background: the server need not be up yet) to <paramref name="configuration"/>, a StackExchange.Redis configuration string.</summary>
    public RedisResponseStore(string configuration, TimeSpan lifetime)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 2000;
        options.AsyncTimeout = (int)ReadTimeout.TotalMilliseconds;
        options.SyncTimeout = (int)ReadTimeout.TotalMilliseconds;
        options.BacklogPolicy = BacklogPolicy.FailFast; // while disconnected, fail at once rather than queue behind the reconnect
        _redis = ConnectionMultiplexer.Connect(options);
        _lifetime = lifetime;
    }

    /// <summary>Lookups and writes that failed (Redis down, slow or refusing).</summary>
    public long Errors => Interlocked.Read(ref _errors);

    public async ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken)
    {
        if (!_redis.IsConnected)
        {
            Interlocked.Increment(ref _errors);
            return null;
        }

        try
        {
            var value = await _redis.GetDatabase().StringGetAsync(Prefix + key).WaitAsync(ReadTimeout, cancellationToken);
            return value.IsNull ? null : (byte[]?)value;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Interlocked.Increment(ref _errors);
            return null;
        }
    }

    public void Put(string key, byte[] value)
    {
        try
        {
            _redis.GetDatabase().StringSet(Prefix + key, value, _lifetime, flags: CommandFlags.FireAndForget);
        }
        catch (RedisException)
        {
            Interlocked.Increment(ref _errors);
        }
    }

    public void Dispose() => _redis.Dispose();
}
