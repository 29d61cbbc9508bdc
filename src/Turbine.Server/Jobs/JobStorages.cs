using Turbine.Jobs.Storage;

namespace Turbine.Server.Jobs;

/// <summary>The storage jobs read and write through: local disk, and S3-compatible object storage for <c>s3://</c> locations.</summary>
public static class JobStorages
{
    /// <summary>
    /// For the CLI: local paths as given, and object storage at <c>TURBINE_JOBS_S3_ENDPOINT</c> (AWS when unset) in
    /// <c>AWS_REGION</c> (us-east-1 when unset).
    /// </summary>
    public static IJobStorage ForCli() => new RoutedJobStorage(
        new LocalJobStorage(),
        new S3JobStorage(
            Variable("TURBINE_JOBS_S3_ENDPOINT"),
            Variable("AWS_REGION") ?? "us-east-1",
            new HashSet<string>(),
            Path.Combine(Path.GetTempPath(), "turbine-jobs")));

    /// <summary>An environment variable; unset and empty alike are null (a manifest sets empty for "none").</summary>
    public static string? Variable(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;
}
