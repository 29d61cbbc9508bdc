using Microsoft.Extensions.Options;
using Turbine.Jobs;
using Turbine.Jobs.Storage;
using Turbine.Jobs.Store;
using Turbine.Server.Hosting;

namespace Turbine.Server.Jobs;

/// <summary>The server's job store, storage and control (from <c>Turbine:Jobs</c>), opened once on first use and shared by the API and the workers.</summary>
public sealed class JobsProvider(IOptions<TurbineServerOptions> options, TimeProvider time) : IDisposable
{
    private readonly SemaphoreSlim _opening = new(1, 1);
    private JobControl? _control;
    private S3JobStorage? _objects;

    /// <summary>Whether jobs are configured.</summary>
    public bool Configured => options.Value.Jobs.Folder is not null;

    /// <summary>The job control, its store migrated on first use.</summary>
    public async Task<JobControl> GetAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _control) is { } open)
        {
            return open;
        }

        await _opening.WaitAsync(cancellationToken);
        try
        {
            if (_control is not null)
            {
                return _control;
            }

            var settings = options.Value.Jobs;
            var folder = Directory.CreateDirectory(settings.Folder!).FullName;
            var store = settings.Postgres is { } postgres
                ? await JobDatabases.PostgresAsync(postgres, time, cancellationToken)
                : await JobDatabases.SqliteAsync(Path.Combine(folder, "jobs.db"), time, cancellationToken);
            _objects = new S3JobStorage(settings.S3Endpoint, settings.S3Region, new HashSet<string>(settings.S3Buckets, StringComparer.Ordinal), Path.Combine(folder, ".scratch"));
            Storage = new RoutedJobStorage(new LocalJobStorage(folder), _objects);
            Volatile.Write(ref _control, new JobControl(store, Storage, time));
            return _control!;
        }
        finally
        {
            _opening.Release();
        }
    }

    /// <summary>The storage jobs use, once opened.</summary>
    public IJobStorage? Storage { get; private set; }

    /// <summary>The store, once opened.</summary>
    public IJobStore? Store => _control?.Store;

    /// <inheritdoc />
    public void Dispose()
    {
        _opening.Dispose();
        _objects?.Dispose();
    }
}
