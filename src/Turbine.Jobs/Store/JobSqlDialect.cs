namespace Turbine.Jobs.Store;

/// <summary>What differs between the databases the job store runs on: the migration lock, and how a free row is picked.</summary>
public abstract class JobSqlDialect
{
    /// <summary>SQLite: one machine, any number of processes (its write lock serializes leases).</summary>
    public static JobSqlDialect Sqlite { get; } = new SqliteDialect();

    /// <summary>PostgreSQL: workers on many machines, leasing with <c>FOR UPDATE SKIP LOCKED</c>.</summary>
    public static JobSqlDialect Postgres { get; } = new PostgresDialect();

    /// <summary>The schema's migrations in order; never edited once shipped, new ones appended.</summary>
    public IReadOnlyList<string> Migrations { get; } =
    [
        """
        CREATE TABLE batch_jobs (
            id TEXT PRIMARY KEY, definition TEXT NOT NULL, state TEXT NOT NULL, reason TEXT, priority INTEGER NOT NULL,
            created_at BIGINT NOT NULL, started_at BIGINT, finished_at BIGINT, planner TEXT, planner_until BIGINT,
            columns TEXT, total_rows BIGINT NOT NULL DEFAULT 0, partition_count INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX batch_jobs_state ON batch_jobs (state, priority, created_at);
        CREATE TABLE batch_partitions (
            job TEXT NOT NULL REFERENCES batch_jobs(id), idx INTEGER NOT NULL, first_row BIGINT NOT NULL, row_count BIGINT NOT NULL,
            byte_offset BIGINT NOT NULL, byte_length BIGINT NOT NULL, state TEXT NOT NULL, owner TEXT, lease_until BIGINT,
            attempts INTEGER NOT NULL DEFAULT 0, rows_done BIGINT NOT NULL DEFAULT 0, errors BIGINT NOT NULL DEFAULT 0,
            sha256 TEXT, bytes BIGINT NOT NULL DEFAULT 0, cpu_ms BIGINT NOT NULL DEFAULT 0, finished_at BIGINT,
            PRIMARY KEY (job, idx));
        CREATE INDEX batch_partitions_open ON batch_partitions (job, state, idx);
        """,
    ];

    /// <summary>Run before migrating, in the migration's transaction, so two processes never migrate at once.</summary>
    public abstract string MigrationLock { get; }

    /// <summary>
    /// Appended to the sub-select that picks the next free row to take: empty for SQLite, whose write lock already makes
    /// the pick and the mark one step for every process on the machine; <c>FOR UPDATE SKIP LOCKED</c> for PostgreSQL, so
    /// workers racing for one row each take a different one instead of queueing behind its lock.
    /// </summary>
    /// <param name="table">The alias of the table whose rows are locked, when the sub-select joins several.</param>
    public abstract string SkipLocked(string? table = null);

    private sealed class SqliteDialect : JobSqlDialect
    {
        public override string MigrationLock => "SELECT 1";

        public override string SkipLocked(string? table = null) => string.Empty;
    }

    private sealed class PostgresDialect : JobSqlDialect
    {
        // "turbjob" in ASCII: one key for every job store sharing the database.
        public override string MigrationLock => "SELECT pg_advisory_xact_lock(8391162735643001)";

        public override string SkipLocked(string? table = null) => table is null ? " FOR UPDATE SKIP LOCKED" : $" FOR UPDATE OF {table} SKIP LOCKED";
    }
}
