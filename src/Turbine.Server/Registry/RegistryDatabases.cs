using Microsoft.Data.Sqlite;
using Npgsql;
using Turbine.Registry;

namespace Turbine.Server.Registry;

/// <summary>
/// The registry's metadata stores with their drivers: SQLite in a file (the single-machine default; WAL journal so
/// readers never wait for a writer, foreign keys on) or PostgreSQL (shared by every machine that uses the registry).
/// The one place those drivers meet the registry (DESIGN.md: database clients are wired by the host).
/// </summary>
public static class RegistryDatabases
{
    /// <summary>A store in the SQLite file at <paramref name="path"/> (created with its folder if missing).</summary>
    public static IRegistryStore Sqlite(string path, TimeProvider time)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var connectionString = new SqliteConnectionStringBuilder { DataSource = path, ForeignKeys = true, Pooling = true, DefaultTimeout = 30 }.ToString();
        using (var connection = new SqliteConnection(connectionString))
        {
            connection.Open();
            using var wal = connection.CreateCommand();
            wal.CommandText = "PRAGMA journal_mode=WAL";
            wal.ExecuteNonQuery();
        }

        return new SqlRegistryStore(() => new SqliteConnection(connectionString), SqlDialect.Sqlite, time);
    }

    /// <summary>A store in the PostgreSQL database of <paramref name="connectionString"/>.</summary>
    public static IRegistryStore Postgres(string connectionString, TimeProvider time) =>
        new SqlRegistryStore(() => new NpgsqlConnection(connectionString), SqlDialect.Postgres, time);

    /// <summary>
    /// A registry rooted in <paramref name="folder"/>: its artifacts in <c>artifacts/</c> there unless an S3 location is
    /// given, its metadata in <c>registry.db</c> there (SQLite) unless a PostgreSQL connection string is given. The schema
    /// is brought up to date.
    /// </summary>
    public static async Task<ModelRegistry> OpenAsync(string folder, string? postgres, S3ArtifactLocation? s3, TimeProvider time, CancellationToken cancellationToken)
    {
        var store = postgres is null ? Sqlite(Path.Combine(folder, "registry.db"), time) : Postgres(postgres, time);
        await store.MigrateAsync(cancellationToken);
        IArtifactStore artifacts = s3 is null ? new LocalArtifactStore(Path.Combine(folder, "artifacts")) : new S3ArtifactStore(s3);
        return new ModelRegistry(store, artifacts, time);
    }
}
