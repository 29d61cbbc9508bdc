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
            Environment.GetEnvironmentVariable("TURBINE_JOBS_S3_ENDPOINT"),
            Environment.GetEnvironmentVariable("AWS_REGION") ?? "us-east-1",
            new HashSet<string>(),
            Path.Combine(Path.GetTempPath(), "turbine-jobs")));
}
