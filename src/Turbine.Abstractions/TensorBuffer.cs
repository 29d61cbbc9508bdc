namespace Turbine;

/// <summary>
/// The bytes of one tensor, in a pinned array rented from <see cref="PinnedBufferPool"/> (or wrapped, when the
/// caller already owns the bytes). Fixed-size types are stored little-endian, element after element; BYTES tensors
/// hold each element as a 4-byte little-endian length followed by its bytes, as on the wire.
/// </summary>
public sealed class TensorBuffer : IDisposable
{
    private readonly PinnedBufferPool? _pool;
    private byte[]? _array;

    private TensorBuffer(byte[] array, int length, PinnedBufferPool? pool)
    {
        _array = array;
        Length = length;
        _pool = pool;
    }

    /// <summary>An empty buffer.</summary>
    public static TensorBuffer Empty => new([], 0, null);

    /// <summary>Number of valid bytes.</summary>
    public int Length { get; }

    /// <summary>The valid bytes.</summary>
    public Span<byte> Span => Array.AsSpan(0, Length);

    /// <summary>The valid bytes.</summary>
    public Memory<byte> Memory => Array.AsMemory(0, Length);

    private byte[] Array => _array ?? throw new ObjectDisposedException(nameof(TensorBuffer));

    /// <summary>Rents a pinned buffer of exactly <paramref name="length"/> valid bytes (contents undefined).</summary>
    public static TensorBuffer Rent(int length, PinnedBufferPool? pool = null)
    {
        pool ??= PinnedBufferPool.Shared;
        return new TensorBuffer(pool.Rent(length), length, pool);
    }

    /// <summary>Rents a pinned buffer and copies <paramref name="source"/> into it.</summary>
    public static TensorBuffer CopyOf(ReadOnlySpan<byte> source)
    {
        var buffer = Rent(source.Length);
        source.CopyTo(buffer.Span);
        return buffer;
    }

    /// <summary>Wraps bytes the caller owns; nothing is returned to a pool on dispose.</summary>
    public static TensorBuffer Wrap(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        return new TensorBuffer(bytes, bytes.Length, null);
    }

    /// <summary>Returns the array to its pool. Idempotent.</summary>
    public void Dispose()
    {
        var array = Interlocked.Exchange(ref _array, null);
        if (array is not null)
        {
            _pool?.Return(array);
        }
    }
}
