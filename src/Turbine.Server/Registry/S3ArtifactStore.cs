using System.Net;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Turbine.Registry;

namespace Turbine.Server.Registry;

/// <summary>Where a registry keeps its artifacts in S3-compatible storage.</summary>
/// <param name="Bucket">The bucket (it must exist).</param>
/// <param name="Endpoint">The service URL for S3-compatible servers (MinIO, Ceph, s3rver); null for AWS itself.</param>
/// <param name="Prefix">A key prefix, so several registries can share a bucket.</param>
/// <param name="Region">The signing region.</param>
public sealed record S3ArtifactLocation(string Bucket, string? Endpoint = null, string Prefix = "", string Region = "us-east-1");

/// <summary>
/// Artifacts in S3-compatible storage, one object per digest (<c>prefix/sha256/ab/abcdef...</c>). Credentials come from
/// the AWS SDK's usual chain (<c>AWS_ACCESS_KEY_ID</c> and <c>AWS_SECRET_ACCESS_KEY</c>, a profile, a pod identity).
/// Uploads are sent whole with chunked encoding and the newer flexible checksums off, which several S3-compatible
/// servers refuse; a file is hashed before its upload, so its key is its digest and an object is never overwritten.
/// </summary>
public sealed class S3ArtifactStore : IArtifactStore, IDisposable
{
    private readonly AmazonS3Client _client;
    private readonly S3ArtifactLocation _location;

    public S3ArtifactStore(S3ArtifactLocation location, AWSCredentials? credentials = null)
    {
        ArgumentNullException.ThrowIfNull(location);
        _location = location;
_client = Jobs.S3Clients.Create(location.Endpoint, location.Region, credentials);
    }

    private async Task<bool> ExistsAsync(string sha256, CancellationToken cancellationToken)
    {
        try
        {
            await _client.GetObjectMetadataAsync(_location.Bucket, Key(sha256), cancellationToken);
            return true;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public async Task<(string Sha256, long Size)> PutAsync(string sourcePath, CancellationToken cancellationToken)
    {
        string digest;
        long size;
        await using (var source = File.OpenRead(sourcePath))
        {
            digest = Convert.ToHexStringLower(await SHA256.HashDataAsync(source, cancellationToken));
            size = source.Length;
        }

        if (!await ExistsAsync(digest, cancellationToken))
        {
            await _client.PutObjectAsync(new PutObjectRequest
            {
                BucketName = _location.Bucket,
                Key = Key(digest),
                FilePath = sourcePath,
                UseChunkEncoding = false,
            }, cancellationToken);
        }

        return (digest, size);
    }

    /// <inheritdoc />
    public async Task GetAsync(string sha256, string targetPath, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _client.GetObjectAsync(_location.Bucket, Key(sha256), cancellationToken);
            await using var output = File.Create(targetPath);
            await response.ResponseStream.CopyToAsync(output, cancellationToken);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            throw new RegistryException($"the artifact store has no blob {sha256}") { NotFound = true };
        }
    }

    /// <inheritdoc />
    public void Dispose() => _client.Dispose();

    private string Key(string sha256) => LocalArtifactStore.IsDigest(sha256)
        ? $"{_location.Prefix.TrimEnd('/')}{(_location.Prefix.Length > 0 ? "/" : string.Empty)}sha256/{sha256[..2]}/{sha256}"
        : throw new RegistryException($"'{ClientText.Quote(sha256)}' is not a SHA-256 digest");
}
