using Turbine.Jobs.Definition;

namespace Turbine.Jobs.Storage;

/// <summary>Sends <c>s3://</c> locations to object storage (when the host wired one) and the rest to local disk.</summary>
public sealed class RoutedJobStorage(IJobStorage local, IJobStorage? objectStorage) : IJobStorage
{
    /// <inheritdoc />
    public string? Check(string uri) => Pick(uri, out var storage) is { } problem ? problem : storage!.Check(uri);

    /// <inheritdoc />
    public Task<long> LengthAsync(string uri, CancellationToken cancellationToken) => For(uri).LengthAsync(uri, cancellationToken);

    /// <inheritdoc />
    public Task<Stream> OpenReadAsync(string uri, long offset, long length, CancellationToken cancellationToken) => For(uri).OpenReadAsync(uri, offset, length, cancellationToken);

    /// <inheritdoc />
    public Task<string> LocalCopyAsync(string uri, CancellationToken cancellationToken) => For(uri).LocalCopyAsync(uri, cancellationToken);

    /// <inheritdoc />
    public string ScratchFolder(string outputUri) => For(outputUri).ScratchFolder(outputUri);

    /// <inheritdoc />
    public void ClearScratch(string outputUri) => For(outputUri).ClearScratch(outputUri);

    /// <inheritdoc />
    public Task PublishAsync(string scratchFile, string outputUri, string name, CancellationToken cancellationToken) => For(outputUri).PublishAsync(scratchFile, outputUri, name, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> ListAsync(string outputUri, CancellationToken cancellationToken) => For(outputUri).ListAsync(outputUri, cancellationToken);

    /// <inheritdoc />
    public Task<Stream> OpenOutputAsync(string outputUri, string name, CancellationToken cancellationToken) => For(outputUri).OpenOutputAsync(outputUri, name, cancellationToken);

    private IJobStorage For(string uri) => Pick(uri, out var storage) is { } problem ? throw new InvalidOperationException(problem) : storage!;

    private string? Pick(string uri, out IJobStorage? storage)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (!uri.StartsWith(DataLocation.ObjectStorageScheme, StringComparison.OrdinalIgnoreCase))
        {
            storage = local;
            return null;
        }

        storage = objectStorage;
        return storage is null ? $"'{ClientText.Quote(uri)}' is in object storage, and none is configured" : null;
    }
}
