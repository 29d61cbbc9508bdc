namespace Turbine.Jobs.Storage;

/// <summary>
/// Where a job's files are: local disk or S3-compatible object storage, behind one interface so that workers never
/// care. Output is written to a local scratch file first and published whole under its final name (a rename on disk,
/// one PUT in object storage), so a reader never sees half a part.
/// </summary>
public interface IJobStorage
{
    /// <summary>Why <paramref name="uri"/> may not be used (outside the allowed root, a bucket not allowed); null when it may.</summary>
    string? Check(string uri);

    /// <summary>The size of the file at <paramref name="uri"/>.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    Task<long> LengthAsync(string uri, CancellationToken cancellationToken);

    /// <summary>Reads <paramref name="length"/> bytes from <paramref name="offset"/> (-1: to the end).</summary>
    Task<Stream> OpenReadAsync(string uri, long offset, long length, CancellationToken cancellationToken);

    /// <summary>A local file with the whole content, for formats read out of order (Parquet); downloaded once per process.</summary>
    Task<string> LocalCopyAsync(string uri, CancellationToken cancellationToken);

    /// <summary>A local folder for files on their way to <paramref name="outputUri"/> (created).</summary>
    string ScratchFolder(string outputUri);

    /// <summary>Removes the scratch folder of a finished job's output, with whatever a worker that lost its lease left there.</summary>
    void ClearScratch(string outputUri);

    /// <summary>Publishes <paramref name="scratchFile"/> as <paramref name="name"/> under <paramref name="outputUri"/>, whole or not at all, replacing any earlier copy.</summary>
    Task PublishAsync(string scratchFile, string outputUri, string name, CancellationToken cancellationToken);

    /// <summary>The names of the files published under <paramref name="outputUri"/> (sub-folders as <c>errors/part-00000.jsonl</c>).</summary>
    Task<IReadOnlyList<string>> ListAsync(string outputUri, CancellationToken cancellationToken);

    /// <summary>Reads a published file.</summary>
    Task<Stream> OpenOutputAsync(string outputUri, string name, CancellationToken cancellationToken);
}
