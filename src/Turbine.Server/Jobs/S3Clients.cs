using Amazon.Runtime;
using Amazon.S3;

namespace Turbine.Server.Jobs;

/// <summary>
/// S3 clients as every Turbine store makes them: the region to sign for, path-style addressing for S3-compatible
/// servers (MinIO, Ceph, s3rver rarely resolve bucket subdomains), and the newer flexible checksums only when
/// required, since several S3-compatible servers refuse them.
/// </summary>
public static class S3Clients
{
    /// <summary>A client for <paramref name="endpoint"/> (null: AWS itself) with the SDK's usual credential chain, or <paramref name="credentials"/>.</summary>
    public static AmazonS3Client Create(string? endpoint, string region, AWSCredentials? credentials = null)
    {
        var config = new AmazonS3Config
        {
            AuthenticationRegion = region,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (endpoint is not null)
        {
            config.ServiceURL = endpoint;
            config.ForcePathStyle = true;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(region);
        }

        return credentials is null ? new AmazonS3Client(config) : new AmazonS3Client(credentials, config);
    }
}
