using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Turbine.Core.Sql;
using Turbine.Jobs.Definition;
using static Turbine.Core.Sql.SqlDatabase;

namespace Turbine.Jobs.Store;

/// <summary>
/// Jobs and partitions in a SQL database through plain ADO.NET (the host hands in the driver). A partition's lease
/// names its owner and attempt; renewals and completions match both, so a worker whose lease ran out and was taken
/// over can no longer change the partition. Times are Unix milliseconds from the injected clock.
/// </summary>
public sealed class SqlJobStore(Func<DbConnection> connect, JobSqlDialect dialect, TimeProvider time) : IJobStore
{
    private const string JobColumns = "id, definition, state, reason, created_at, started_at, finished_at, columns";

    // Progress from the partitions: planned, done, rows, rows done (finished, and as last renewed), errors, bytes.
    private const string ProgressOf = """
        (SELECT COUNT(*) FROM batch_partitions p WHERE p.job = j.id),
        (SELECT COUNT(*) FROM batch_partitions p WHERE p.job = j.id AND p.state = 'done'),
        (SELECT COALESCE(SUM(row_count), 0) FROM batch_partitions p WHERE p.job = j.id),
        (SELECT COALESCE(SUM(CASE WHEN state = 'done' THEN rows_done + errors ELSE rows_done END), 0) FROM batch_partitions p WHERE p.job = j.id),
        (SELECT COALESCE(SUM(errors), 0) FROM batch_partitions p WHERE p.job = j.id),
        (SELECT COALESCE(SUM(bytes), 0) FROM batch_partitions p WHERE p.job = j.id)
        """;

    private readonly SqlDatabase _database = new(connect);

    /// <inheritdoc />
    public Task MigrateAsync(CancellationToken cancellationToken) =>
        _database.MigrateAsync("batch_schema", dialect.Migrations, dialect.MigrationLock, cancellationToken);

    /// <inheritdoc />
    public async Task<bool> CreateAsync(string id, JobDefinition definition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return await _database.ExecuteAsync(
            "INSERT INTO batch_jobs (id, definition, state, priority, created_at) VALUES (@id, @definition, 'queued', @priority, @now) ON CONFLICT (id) DO NOTHING",
            cancellationToken, ("id", id), ("definition", JobDefinitionJson.Write(definition)), ("priority", definition.Options.Priority), ("now", Now())) == 1;
    }

    /// <inheritdoc />
    public async Task<JobRecord?> GetAsync(string id, CancellationToken cancellationToken) =>
        (await _database.QueryAsync($"SELECT {JobColumns}, {ProgressOf} FROM batch_jobs j WHERE id = @id", ReadJob, cancellationToken, ("id", id))).SingleOrDefault();

    /// <inheritdoc />
    public Task<IReadOnlyList<JobRecord>> ListAsync(int limit, CancellationToken cancellationToken) =>
        _database.QueryAsync($"SELECT {JobColumns}, {ProgressOf} FROM batch_jobs j ORDER BY created_at DESC, id LIMIT @limit", ReadJob, cancellationToken, ("limit", limit));

    /// <inheritdoc />
    public async Task<JobRecord?> ClaimPlanningAsync(string? jobId, string owner, TimeSpan claim, CancellationToken cancellationToken)
    {
        var now = Now();
        var claimed = await _database.QueryAsync(
            $"""
            UPDATE batch_jobs SET state = 'validating', planner = @owner, planner_until = @until
            WHERE id = (SELECT id FROM batch_jobs
                        WHERE (CAST(@job AS TEXT) IS NULL OR id = @job) AND (state = 'queued' OR (state = 'validating' AND planner_until < @now))
                        ORDER BY priority DESC, created_at LIMIT 1{dialect.SkipLocked()})
            RETURNING id
            """,
            r => r.GetString(0), cancellationToken, ("owner", owner), ("until", now + (long)claim.TotalMilliseconds), ("job", jobId), ("now", now));
        return claimed.Count == 0 ? null : await GetAsync(claimed[0], cancellationToken);
    }

    /// <inheritdoc />
    public async Task<bool> StartAsync(string jobId, string owner, JobPlan plan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
        var started = await ExecuteAsync(Command(connection, transaction,
            "UPDATE batch_jobs SET state = 'running', started_at = @now, columns = @columns, total_rows = @rows, partition_count = @count, reason = NULL WHERE id = @id AND state = 'validating' AND planner = @owner",
            ("now", Now()), ("columns", JsonSerializer.Serialize(plan.Columns)), ("rows", plan.Rows), ("count", plan.Partitions.Count), ("id", jobId), ("owner", owner)), cancellationToken);
        if (started != 1)
        {
            return false;
        }

        foreach (var span in plan.Partitions)
        {
            await ExecuteAsync(Command(connection, transaction,
                "INSERT INTO batch_partitions (job, idx, first_row, row_count, byte_offset, byte_length, state) VALUES (@job, @idx, @first, @rows, @offset, @length, 'pending')",
                ("job", jobId), ("idx", span.Index), ("first", span.FirstRow), ("rows", span.Rows), ("offset", span.ByteOffset), ("length", span.ByteLength)), cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <inheritdoc />
    public async Task<bool> TransitionAsync(string jobId, IReadOnlyCollection<JobState> expected, JobState target, string? reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(expected);
        var parameters = new List<(string, object?)> { ("to", target.Name()), ("reason", reason), ("id", jobId), ("now", Now()) };
        var names = new List<string>();
        foreach (var state in expected)
        {
            names.Add($"@from{names.Count}");
            parameters.Add(($"from{names.Count - 1}", state.Name()));
        }

        var finished = target.IsFinal() ? "@now" : "NULL";
        return await _database.ExecuteAsync(
            $"UPDATE batch_jobs SET state = @to, reason = @reason, finished_at = {finished} WHERE id = @id AND state IN ({string.Join(", ", names)})",
            cancellationToken, [.. parameters]) == 1;
    }

    /// <inheritdoc />
    public async Task<PartitionLease?> LeaseAsync(string? jobId, string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        var now = Now();
        var leased = await _database.QueryAsync(
            $"""
            UPDATE batch_partitions SET state = 'leased', owner = @owner, lease_until = @until, attempts = attempts + 1, rows_done = 0
            WHERE (job, idx) = (SELECT p.job, p.idx FROM batch_partitions p JOIN batch_jobs j ON j.id = p.job
                                WHERE j.state = 'running' AND (CAST(@job AS TEXT) IS NULL OR p.job = @job)
                                  AND (p.state = 'pending' OR (p.state = 'leased' AND p.lease_until < @now))
                                ORDER BY j.priority DESC, j.created_at, p.job, p.idx LIMIT 1{dialect.SkipLocked("p")})
            RETURNING job, idx, first_row, row_count, byte_offset, byte_length, attempts
            """,
            r => new PartitionLease(r.GetString(0), new PartitionSpan(r.GetInt32(1), r.GetInt64(2), r.GetInt64(3), r.GetInt64(4), r.GetInt64(5)), owner, r.GetInt32(6)),
            cancellationToken, ("owner", owner), ("until", now + (long)lease.TotalMilliseconds), ("job", jobId), ("now", now));
        return leased.Count == 0 ? null : leased[0];
    }

    /// <inheritdoc />
    public async Task<JobState?> RenewAsync(PartitionLease lease, TimeSpan extension, long rowsDone, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        var renewed = await _database.ExecuteAsync(
            $"UPDATE batch_partitions SET lease_until = @until, rows_done = @rows WHERE {Held}",
            cancellationToken, [("until", Now() + (long)extension.TotalMilliseconds), ("rows", rowsDone), .. HeldBy(lease)]);
        if (renewed != 1)
        {
            return null;
        }

        var states = await _database.QueryAsync("SELECT state FROM batch_jobs WHERE id = @id", r => JobStates.Parse(r.GetString(0)), cancellationToken, ("id", lease.JobId));
        return states.Count == 0 ? null : states[0];
    }

    /// <inheritdoc />
    public async Task<bool> CompleteAsync(PartitionLease lease, PartitionResult result, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(result);
        return await _database.ExecuteAsync(
            $"UPDATE batch_partitions SET state = 'done', rows_done = @rows, errors = @errors, sha256 = @sha, bytes = @bytes, cpu_ms = @cpu, finished_at = @now, lease_until = NULL WHERE {Held}",
            cancellationToken, [("rows", result.Rows), ("errors", result.Errors), ("sha", result.Sha256), ("bytes", result.Bytes), ("cpu", (long)result.CpuTime.TotalMilliseconds), ("now", Now()), .. HeldBy(lease)]) == 1;
    }

    /// <inheritdoc />
    public async Task ReleaseAsync(PartitionLease lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        await _database.ExecuteAsync($"UPDATE batch_partitions SET state = 'pending', owner = NULL, lease_until = NULL, rows_done = 0 WHERE {Held}", cancellationToken, HeldBy(lease));
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> HoldersAsync(string jobId, CancellationToken cancellationToken) =>
        _database.QueryAsync(
            "SELECT owner FROM batch_partitions WHERE job = @job AND state = 'leased' UNION SELECT planner FROM batch_jobs WHERE id = @job AND state = 'validating'",
            r => r.GetString(0), cancellationToken, ("job", jobId));

    /// <inheritdoc />
    public async Task ReclaimAsync(string jobId, string owner, CancellationToken cancellationToken)
    {
        await _database.ExecuteAsync("UPDATE batch_partitions SET state = 'pending', owner = NULL, lease_until = NULL, rows_done = 0 WHERE job = @job AND owner = @owner AND state = 'leased'",
            cancellationToken, ("job", jobId), ("owner", owner));
        await _database.ExecuteAsync("UPDATE batch_jobs SET state = 'queued', planner = NULL WHERE id = @job AND planner = @owner AND state = 'validating'",
            cancellationToken, ("job", jobId), ("owner", owner));
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<FinishedPartition>> FinishedPartitionsAsync(string jobId, CancellationToken cancellationToken) =>
        _database.QueryAsync(
            "SELECT idx, rows_done, errors, sha256, bytes, attempts, cpu_ms FROM batch_partitions WHERE job = @job AND state = 'done' ORDER BY idx",
            r => new FinishedPartition(r.GetInt32(0), r.GetInt64(1), r.GetInt64(2), r.GetString(3), r.GetInt64(4), r.GetInt32(5), TimeSpan.FromMilliseconds(r.GetInt64(6))), cancellationToken, ("job", jobId));

    /// <inheritdoc />
    public async Task<bool> TryFinishAsync(string jobId, CancellationToken cancellationToken) =>
        await _database.ExecuteAsync(
            "UPDATE batch_jobs SET state = 'succeeded', finished_at = @now, reason = NULL WHERE id = @id AND state = 'running' AND NOT EXISTS (SELECT 1 FROM batch_partitions WHERE job = @id AND state <> 'done')",
            cancellationToken, ("now", Now()), ("id", jobId)) == 1;

    private const string Held = "job = @job AND idx = @idx AND owner = @owner AND attempts = @attempt AND state = 'leased'";

    private static (string, object?)[] HeldBy(PartitionLease lease) =>
        [("job", lease.JobId), ("idx", lease.Span.Index), ("owner", lease.Owner), ("attempt", lease.Attempt)];

    private long Now() => time.GetUtcNow().ToUnixTimeMilliseconds();

    private static JobRecord ReadJob(DbDataReader r)
    {
        var definition = JobDefinitionJson.Read(r.GetString(1), out var errors)
            ?? throw new InvalidDataException($"job '{r.GetString(0)}' has a stored definition that no longer reads: {string.Join("; ", errors)}");
        var columns = r.IsDBNull(7) ? null : JsonSerializer.Deserialize<string[]>(r.GetString(7));
        var progress = new JobProgress(Int(r, 8), Int(r, 9), r.GetInt64(10), r.GetInt64(11), r.GetInt64(12), r.GetInt64(13));
        return new JobRecord(r.GetString(0), definition, JobStates.Parse(r.GetString(2)), r.IsDBNull(3) ? null : r.GetString(3),
            Time(r, 4), TimeOrNull(r, 5), TimeOrNull(r, 6), columns, progress);
    }

    private static int Int(DbDataReader r, int column) => Convert.ToInt32(r.GetValue(column), CultureInfo.InvariantCulture);
}
