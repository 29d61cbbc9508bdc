using System.Net;
using System.Security.Cryptography;
using System.Text;
using Amazon.S3;
using Amazon.S3.Model;
using Turbine.Jobs.Definition;
using Turbine.Jobs.Storage;

namespace Turbine.Server.Jobs;

/// <summary>
/// Job files in S3-compatible storage (<c>s3://bucket/key</c>). Partitions of CSV and JSON lines are read with ranged
/// GETs; Parquet, which is read out of order, is downloaded once per process into a local cache. A part is written
/// locally and published with one PUT, which S3 makes visible whole or not at all. Credentials come from the AWS SDK's
/// usual chain.
/// </summary>
public sealed class S3JobStorage : IJobStorage, IDisposable
{
    private readonly AmazonS3Client _client;
    private readonly IReadOnlySet<string> _buckets;
    private readonly string _scratch;

    /// <param name="endpoint">The service URL of an S3-compatible server; null for AWS.</param>
    /// <param name="region">The signing region.</param>
    /// <param name="allowedBuckets">The buckets jobs may use; empty allows any the credentials reach.</param>
    /// <param name="scratch">The local folder for downloads and parts on their way up.</param>
    public S3JobStorage(string? endpoint, string region, IReadOnlySet<string> allowedBuckets, string scratch)
    {
        _client = S3Clients.Create(endpoint, region);
        _buckets = allowedBuckets;
        _scratch = scratch;
    }

    /// <inheritdoc />
    public string? Check(string uri)
    {
        if (!TryParse(uri, out var bucket, out var key))
        {
            return $"'{ClientText.Quote(uri)}' is not an s3://bucket/key location";
        }

        if (_buckets.Count > 0 && !_buckets.Contains(bucket))
        {
            return $"bucket '{ClientText.Quote(bucket)}' is not one jobs may use";
        }

        return key.Split('/').Any(segment => segment is "." or "..") || key.Any(char.IsControl) ? $"'{ClientText.Quote(uri)}' holds a '.' or '..' segment or a control character" : null;
    }

    /// <inheritdoc />
    public async Task<long> LengthAsync(string uri, CancellationToken cancellationToken)
    {
        var (bucket, key) = Parse(uri);
        try
        {
            return (await _client.GetObjectMetadataAsync(bucket, key, cancellationToken)).ContentLength;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            throw new FileNotFoundException($"no input object '{uri}'");
        }
    }

    /// <inheritdoc />
    public async Task<Stream> OpenReadAsync(string uri, long offset, long length, CancellationToken cancellationToken)
    {
        var (bucket, key) = Parse(uri);
        if (length == 0)
        {
            return new MemoryStream([]);
        }

        var request = new GetObjectRequest { BucketName = bucket, Key = key };
        if (offset > 0 || length > 0)
        {
            request.ByteRange = length < 0 ? new ByteRange($"bytes={offset}-") : new ByteRange(offset, offset + length - 1);
        }

        var response = await _client.GetObjectAsync(request, cancellationToken);
        return new ReadOnlyViewStream(response.ResponseStream, owner: response);
    }

    /// <inheritdoc />
    public async Task<string> LocalCopyAsync(string uri, CancellationToken cancellationToken)
    {
        var (bucket, key) = Parse(uri);
        var metadata = await _client.GetObjectMetadataAsync(bucket, key, cancellationToken);
        var name = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{uri}\n{metadata.ETag}")));
        var path = Path.Combine(Directory.CreateDirectory(Path.Combine(_scratch, "downloads")).FullName, name);
        if (!File.Exists(path))
        {
            var partial = $"{path}.{Guid.NewGuid():N}.tmp";
            using (var response = await _client.GetObjectAsync(bucket, key, cancellationToken))
            await using (var file = File.Create(partial))
            {
                await response.ResponseStream.CopyToAsync(file, cancellationToken);
            }

            File.Move(partial, path, overwrite: true);
        }

        return path;
    }

    /// <inheritdoc />
    public string ScratchFolder(string outputUri) => Directory.CreateDirectory(PartsFolder(outputUri)).FullName;

    /// <inheritdoc />
    public void ClearScratch(string outputUri)
    {
        if (Directory.Exists(PartsFolder(outputUri)))
        {
            Directory.Delete(PartsFolder(outputUri), recursive: true);
        }
    }

    private string PartsFolder(string outputUri) =>
        Path.Combine(_scratch, "parts", Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(outputUri)))[..16]);

    /// <inheritdoc />
    public async Task PublishAsync(string scratchFile, string outputUri, string name, CancellationToken cancellationToken)
    {
        var (bucket, prefix) = Parse(outputUri);
        await _client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = Join(prefix, name), FilePath = scratchFile, UseChunkEncoding = false }, cancellationToken);
        File.Delete(scratchFile);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> ListAsync(string outputUri, CancellationToken cancellationToken)
    {
        var (bucket, prefix) = Parse(outputUri);
        var folder = prefix.Length == 0 ? string.Empty : prefix.TrimEnd('/') + "/";
        var names = new List<string>();
        var request = new ListObjectsV2Request { BucketName = bucket, Prefix = folder };
        ListObjectsV2Response response;
        do
        {
            response = await _client.ListObjectsV2Async(request, cancellationToken);
            names.AddRange((response.S3Objects ?? []).Select(o => o.Key[folder.Length..]));
            request.ContinuationToken = response.NextContinuationToken;
        }
        while (response.IsTruncated == true);

        names.Sort(StringComparer.Ordinal);
        return names;
    }

    /// <inheritdoc />
    public async Task<Stream> OpenOutputAsync(string outputUri, string name, CancellationToken cancellationToken)
    {
        var (bucket, prefix) = Parse(outputUri);
        try
        {
            var response = await _client.GetObjectAsync(bucket, Join(prefix, name), cancellationToken);
            return new ReadOnlyViewStream(response.ResponseStream, owner: response);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            throw new FileNotFoundException($"no output file '{ClientText.Quote(name)}'");
        }
    }

    /// <inheritdoc />
    public void Dispose() => _client.Dispose();

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : $"{prefix.TrimEnd('/')}/{name}";

    private (string Bucket, string Key) Parse(string uri) =>
        Check(uri) is { } problem ? throw new UnauthorizedAccessException(problem) : TryParse(uri, out var bucket, out var key) ? (bucket, key) : throw new ArgumentException(uri);

    private static bool TryParse(string uri, out string bucket, out string key)
    {
        bucket = key = string.Empty;
        if (!uri.StartsWith(DataLocation.ObjectStorageScheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var rest = uri[DataLocation.ObjectStorageScheme.Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        bucket = slash < 0 ? rest : rest[..slash];
        key = slash < 0 ? string.Empty : rest[(slash + 1)..];
        return bucket.Length is > 0 and <= 63;
    }
}
