using System.CommandLine;
using Turbine.Registry;
using Turbine.Server.Registry;

namespace Turbine.Cli.Commands;

/// <summary>The options every registry command takes, and running a command against the registry they name.</summary>
internal sealed class RegistryLocation
{
    private readonly Option<DirectoryInfo> _folder = new("--registry")
    {
        Description = "The registry folder: artifacts/ and (without --registry-postgres) registry.db (default: $TURBINE_REGISTRY or ./registry)",
        DefaultValueFactory = _ => new DirectoryInfo(Environment.GetEnvironmentVariable("TURBINE_REGISTRY") ?? "registry"),
    };

    private readonly Option<string?> _postgres = new("--registry-postgres") { Description = "A PostgreSQL connection string for the metadata (shared registries)" };

    private readonly Option<string?> _actor = new("--actor") { Description = "Who acts, for the audit trail (default: the user name)" };

    private readonly Option<string?> _s3Bucket = new("--artifacts-s3-bucket") { Description = "Keep the artifacts in this S3 bucket (credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)" };

    private readonly Option<string?> _s3Endpoint = new("--artifacts-s3-endpoint") { Description = "The URL of an S3-compatible service (MinIO, Ceph, ...)" };

    private readonly Option<string> _s3Prefix = new("--artifacts-s3-prefix") { Description = "A key prefix in the bucket", DefaultValueFactory = _ => string.Empty };

    public void AddTo(Command command)
    {
        command.Options.Add(_folder);
        command.Options.Add(_postgres);
        command.Options.Add(_actor);
        command.Options.Add(_s3Bucket);
        command.Options.Add(_s3Endpoint);
        command.Options.Add(_s3Prefix);
    }

    public string Actor(ParseResult parse) => parse.GetValue(_actor) ?? Environment.UserName;

    public async Task<int> RunAsync(ParseResult parse, Func<ModelRegistry, Task> action, int failure = 2)
    {
        try
        {
            var s3 = parse.GetValue(_s3Bucket) is { } bucket ? new S3ArtifactLocation(bucket, parse.GetValue(_s3Endpoint), parse.GetValue(_s3Prefix)!) : null;
            var registry = await RegistryDatabases.OpenAsync(parse.GetValue(_folder)!.FullName, parse.GetValue(_postgres), s3, TimeProvider.System, CancellationToken.None);
            await action(registry);
            return 0;
        }
        catch (RegistryException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return failure;
        }
        catch (Exception e) when (e is System.Data.Common.DbException or IOException or UnauthorizedAccessException or Amazon.Runtime.AmazonServiceException)
        {
            Console.Error.WriteLine($"error: the registry cannot be used: {e.Message}");
            return 2;
        }
    }
}
