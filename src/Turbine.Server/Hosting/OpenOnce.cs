namespace Turbine.Server.Hosting;

/// <summary>
/// A store the server opens on first use (migrations and all) and shares afterwards; an opening that fails is tried
/// again by the next caller, so a database that was down at start does not stay unusable.
/// </summary>
public sealed class OpenOnce<T> : IDisposable
    where T : class
{
    private readonly SemaphoreSlim _opening = new(1, 1);
    private T? _value;

    /// <summary>The value once opened; null before.</summary>
    public T? Value => Volatile.Read(ref _value);

    /// <summary>The value, opened by <paramref name="open"/> if this is the first use.</summary>
    public async Task<T> GetAsync(Func<CancellationToken, Task<T>> open, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(open);
        if (Volatile.Read(ref _value) is { } opened)
        {
            return opened;
        }

        await _opening.WaitAsync(cancellationToken);
        try
        {
            if (_value is null)
            {
                Volatile.Write(ref _value, await open(cancellationToken));
            }

            return _value!;
        }
        finally
        {
            _opening.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _opening.Dispose();
        (_value as IDisposable)?.Dispose();
    }
}
