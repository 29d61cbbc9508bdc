namespace Turbine.Jobs.Definition;

/// <summary>Where a job's data is and in which format: a local path, or <c>s3://bucket/key</c>.</summary>
/// <param name="Uri">A file (input) or folder (output): a local path or an S3 URI.</param>
/// <param name="Format">The format.</param>
public sealed record DataLocation(string Uri, DataFormat Format)
{
    /// <summary>Whether the location is in S3-compatible object storage.</summary>
    public bool IsObjectStorage => Uri.StartsWith(ObjectStorageScheme, StringComparison.OrdinalIgnoreCase);

    /// <summary>The URI scheme of object storage locations.</summary>
    public const string ObjectStorageScheme = "s3://";
}
