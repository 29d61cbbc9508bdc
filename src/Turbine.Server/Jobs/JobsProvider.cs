using Microsoft.Extensions.Options;
using Turbine.Jobs;
using Turbine.Jobs.Storage;
using Turbine.Server.Hosting;

namespace Turbine.Server.Jobs;

/// <summary>The server's job store, storage and control (from <c>Turbine:Jobs</c>), opened once on first use and shared by the API and the workers.</summary>
public sealed class JobsProvider(IOptions<TurbineServerOptions> options, TimeProvider time) : IDisposable
{
    private readonly OpenOnce<Opened> _jobs = new();

    /// <summary>Whether jobs are configured.</summary>
    public bool Configured => options.Value.Jobs.Folder is not null;

    /// <summary>The job control, its store migrated on first use.</summary>
    public async Task<JobControl> GetAsync(CancellationToken cancellationToken) => (await _jobs.GetAsync(OpenAsync, cancellationToken)).Control;

    /// <inheritdoc />
    public void Dispose() => _jobs.Dispose();

    private async Task<Opened> OpenAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value.Jobs;
        var folder = Directory.CreateDirectory(settings.Folder!).FullName;
        var store = settings.Postgres is { } postgres
            ? await JobDatabases.PostgresAsync(postgres, time, cancellationToken)
            : await JobDatabases.SqliteAsync(Path.Combine(folder, "jobs.db"), time, cancellationToken);
        var objects = new S3JobStorage(settings.S3Endpoint, settings.S3Region, new HashSet<string>(settings.S3Buckets, StringComparer.Ordinal), Path.Combine(folder, ".scratch"));
        var storage = new RoutedJobStorage(new LocalJobStorage(folder), objects);
        return new Opened(new JobControl(store, storage, time), objects);
    }

    /// <summary>What opening made: the control to share, and the S3 client to dispose.</summary>
    private sealed record Opened(JobControl Control, S3JobStorage Objects) : IDisposable
    {
        public void Dispose() => Objects.Dispose();
    }
}
