using Turbine.Core.Repository;

namespace Turbine.Jobs.Storage;

/// <summary>
/// Job files on local disk. With a root (a server's data folder), a location must be a safe relative path under it
/// (SECURITY.md A2): jobs submitted over the API read and write nowhere else. Without one (the CLI), paths are taken as
/// given. Parts are staged in <c>_temporary/</c> inside the output folder, so publishing is a rename on one file system.
/// </summary>
public sealed class LocalJobStorage(string? root = null) : IJobStorage
{
    /// <summary>The staging folder inside an output folder.</summary>
    public const string ScratchName = "_temporary";

    private readonly string? _root = root is null ? null : Path.GetFullPath(root);

    /// <inheritdoc />
    public string? Check(string uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (_root is null)
        {
            return uri.Length == 0 || uri.Any(char.IsControl) ? "a path must not be empty or hold control characters" : null;
        }

        var relative = uri.TrimEnd('/');
        if (!RelativePaths.IsSafe(relative))
        {
            return $"'{ClientText.Quote(uri)}' is not a relative path inside the server's job data folder";
        }

        var full = Path.GetFullPath(Path.Combine(_root, relative));
        return full.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal) ? null : $"'{ClientText.Quote(uri)}' leaves the job data folder";
    }

    /// <inheritdoc />
    public Task<long> LengthAsync(string uri, CancellationToken cancellationToken) =>
        Task.FromResult(new FileInfo(Resolve(uri)) is { Exists: true } file ? file.Length : throw new FileNotFoundException($"no input file '{uri}'"));

    /// <inheritdoc />
    public Task<Stream> OpenReadAsync(string uri, long offset, long length, CancellationToken cancellationToken)
    {
        var file = new FileStream(Resolve(uri), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        file.Position = offset;
        return Task.FromResult<Stream>(length < 0 ? file : new ReadOnlyViewStream(file, length));
    }

    /// <inheritdoc />
    public Task<string> LocalCopyAsync(string uri, CancellationToken cancellationToken) => Task.FromResult(Resolve(uri));

    /// <inheritdoc />
    public string ScratchFolder(string outputUri) => Directory.CreateDirectory(Path.Combine(Resolve(outputUri), ScratchName)).FullName;

    /// <inheritdoc />
    public void ClearScratch(string outputUri)
    {
        var folder = Path.Combine(Resolve(outputUri), ScratchName);
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Gone already, or a slower worker wrote into it meanwhile: what is left is cleared by a later finish.
        }
    }

    /// <inheritdoc />
    public Task PublishAsync(string scratchFile, string outputUri, string name, CancellationToken cancellationToken)
    {
        var target = Path.Combine(Resolve(outputUri), name);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Move(scratchFile, target, overwrite: true);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> ListAsync(string outputUri, CancellationToken cancellationToken)
    {
        var folder = Resolve(outputUri);
        IReadOnlyList<string> names = !Directory.Exists(folder) ? [] :
        [
            .. Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
                .Select(path => Path.GetRelativePath(folder, path).Replace(Path.DirectorySeparatorChar, '/'))
                .Where(name => !name.StartsWith(ScratchName + "/", StringComparison.Ordinal))
                .Order(StringComparer.Ordinal),
        ];
        return Task.FromResult(names);
    }

    /// <inheritdoc />
    public Task<Stream> OpenOutputAsync(string outputUri, string name, CancellationToken cancellationToken)
    {
        if (!RelativePaths.IsSafe(name))
        {
            throw new FileNotFoundException($"no output file '{ClientText.Quote(name)}'");
        }

        return Task.FromResult<Stream>(File.OpenRead(Path.Combine(Resolve(outputUri), name)));
    }

    private string Resolve(string uri) =>
        _root is null ? Path.GetFullPath(uri) : Check(uri) is { } problem ? throw new UnauthorizedAccessException(problem) : Path.GetFullPath(Path.Combine(_root, uri.TrimEnd('/')));
}
