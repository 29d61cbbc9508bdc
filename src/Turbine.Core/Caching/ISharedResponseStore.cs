namespace Turbine.Core.Caching;

/// <summary>A cache that replicas share, behind the in-memory one: answers by key, with a lifetime.</summary>
public interface ISharedResponseStore
{
    /// <summary>The stored bytes, or null on a miss. Never throws: a store that cannot answer is a miss.</summary>
    ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken);

    /// <summary>Stores the bytes without waiting for the store; failures are counted, never thrown.</summary>
    void Put(string key, byte[] value);
}
