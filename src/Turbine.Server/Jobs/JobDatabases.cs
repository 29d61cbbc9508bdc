using Microsoft.Data.Sqlite;
using Npgsql;
using Turbine.Jobs.Store;

namespace Turbine.Server.Jobs;

/// <summary>
/// The job store with its drivers: SQLite in a file (one machine; WAL so readers never wait, a busy timeout so workers
/// in several processes take turns) or PostgreSQL (workers on many machines). The one place those drivers meet jobs.
/// </summary>
public static class JobDatabases
{
    /// <summary>A migrated store in the SQLite file at <paramref name="path"/> (created with its folder if missing).</summary>
    public static async Task<IJobStore> SqliteAsync(string path, TimeProvider time, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var connectionString = new SqliteConnectionStringBuilder { DataSource = path, ForeignKeys = true, Pooling = true, DefaultTimeout = 30 }.ToString();
        await using (var connection = new SqliteConnection(connectionString))
        {
            await connection.OpenAsync(cancellationToken);
            await using var wal = connection.CreateCommand();
            wal.CommandText = "PRAGMA journal_mode=WAL";
            await wal.ExecuteNonQueryAsync(cancellationToken);
        }

        var store = new SqlJobStore(() => new SqliteConnection(connectionString), JobSqlDialect.Sqlite, time);
        await store.MigrateAsync(cancellationToken);
        return store;
    }

    /// <summary>A migrated store in the PostgreSQL database of <paramref name="connectionString"/>.</summary>
    public static async Task<IJobStore> PostgresAsync(string connectionString, TimeProvider time, CancellationToken cancellationToken)
    {
        var store = new SqlJobStore(() => new NpgsqlConnection(connectionString), JobSqlDialect.Postgres, time);
        await store.MigrateAsync(cancellationToken);
        return store;
    }
}
