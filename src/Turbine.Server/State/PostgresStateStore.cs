using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Turbine.Core.State;

namespace Turbine.Server.State;

/// <summary>
/// The state store that replicas share: two tables in PostgreSQL, one of documents (<c>turbine_state</c>: kind, name,
/// body) and one of log records (<c>turbine_state_log</c>, ordered by a sequence). Every write notifies the channel
/// <c>turbine_state</c> with the writing replica, kind and name, in the same implicit transaction, so the others hear
/// of it when it commits. One connection per replica LISTENs on that channel (its notifications raise
/// <see cref="Changed"/>) and holds the session advisory lock that makes its replica the leader; when that connection
/// is lost the lock goes with it (another replica takes it within a second) and, once reconnected, the replica reads
/// everything again. The tables are created on first use, so a server starts while the database is still down.
/// </summary>
internal sealed partial class PostgresStateStore : IStateStore, IAsyncDisposable
{
    private const string NotifyChannel = "turbine_state";

    /// <summary>The advisory lock keys: "turbine" in ASCII for leadership, and one more for creating the schema.</summary>
    private const long LeaderLock = 0x74757262696e65;
    private const long SchemaLock = LeaderLock + 1;

    private static readonly TimeSpan ListenerBackoff = TimeSpan.FromSeconds(1);

    private readonly NpgsqlDataSource _data;
    private readonly NpgsqlDataSource _listenerData;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _listener;
    private volatile bool _schemaReady;
    private volatile bool _leader;

    public PostgresStateStore(string connectionString, string replica, TimeProvider time, ILogger<PostgresStateStore> logger)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        // A database that is down must cost a control-plane call seconds, not Npgsql's default quarter of a minute.
        if (!connectionString.Contains("Timeout", StringComparison.OrdinalIgnoreCase))
        {
            builder.Timeout = 5;
            builder.CommandTimeout = 5;
        }

        _data = NpgsqlDataSource.Create(builder);
        // The listener's session holds the leader lock: closing it must end the session, not park it in the pool.
        _listenerData = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Pooling = false });
        Replica = replica;
        _time = time;
        _logger = logger;
        _listener = Task.Factory.StartNew(ListenAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    public string Replica { get; }

    public bool IsShared => true;

    public bool IsLeader => _leader;

    public event Action<StateChange>? Changed;

    public IReadOnlyList<StateDocument> List(string kind) => Run(connection =>
    {
        using var command = Command(connection, "SELECT name, body FROM turbine_state WHERE kind = $1", Text(kind));
        using var reader = command.ExecuteReader();
        var documents = new List<StateDocument>();
        while (reader.Read())
        {
            documents.Add(new StateDocument(reader.GetString(0), (byte[])reader[1]));
        }

        return documents;
    });

    public byte[]? Find(string kind, string name) => Run(connection =>
    {
        using var command = Command(connection, "SELECT body FROM turbine_state WHERE kind = $1 AND name = $2", Text(kind), Text(name));
        return command.ExecuteScalar() as byte[];
    });

    public void Put(string kind, string name, ReadOnlySpan<byte> body)
    {
        var bytes = body.ToArray();
        Run(connection => WriteAndNotify(
            connection, kind, name,
            "INSERT INTO turbine_state (kind, name, body, replica) VALUES ($1, $2, $3, $4) " +
            "ON CONFLICT (kind, name) DO UPDATE SET body = excluded.body, replica = excluded.replica, updated = now()",
            Text(kind), Text(name), Bytes(bytes), Text(Replica)));
    }

    public void Delete(string kind, string name) => Run(connection => WriteAndNotify(
        connection, kind, name, "DELETE FROM turbine_state WHERE kind = $1 AND name = $2", Text(kind), Text(name)));

    /// <summary>Deletes a kind's documents without notifying: only per-replica figures are deleted whole, and nobody follows those.</summary>
    public void DeleteAll(string kind) => Run(connection =>
    {
        using var command = Command(connection, "DELETE FROM turbine_state WHERE kind = $1", Text(kind));
        return command.ExecuteNonQuery();
    });

    public void Append(string log, ReadOnlySpan<byte> record)
    {
        var bytes = record.ToArray();
        Run(connection => WriteAndNotify(
            connection, log, string.Empty, "INSERT INTO turbine_state_log (log, body, replica) VALUES ($1, $2, $3)", Text(log), Bytes(bytes), Text(Replica)));
    }

    public IReadOnlyList<StateLogRecord> ReadLog(string log, long after, int max) => Run(connection =>
    {
        using var command = Command(
            connection, "SELECT seq, replica, body FROM turbine_state_log WHERE log = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            Text(log), new NpgsqlParameter { Value = after, NpgsqlDbType = NpgsqlDbType.Bigint }, new NpgsqlParameter { Value = max, NpgsqlDbType = NpgsqlDbType.Integer });
        using var reader = command.ExecuteReader();
        var records = new List<StateLogRecord>();
        while (reader.Read())
        {
            records.Add(new StateLogRecord(reader.GetInt64(0), reader.GetString(1), (byte[])reader[2]));
        }

        return records;
    });

    public long LogEnd(string log) => Run(connection =>
    {
        using var command = Command(connection, "SELECT coalesce(max(seq), 0) FROM turbine_state_log WHERE log = $1", Text(log));
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    });

    public void TrimLog(string log, TimeSpan age) => Run(connection =>
    {
        using var command = Command(
            connection, "DELETE FROM turbine_state_log WHERE log = $1 AND at < now() - $2",
            Text(log), new NpgsqlParameter { Value = age, NpgsqlDbType = NpgsqlDbType.Interval });
        return command.ExecuteNonQuery();
    });

    /// <summary>
    /// Stops listening and gives up leadership (closing the connection that holds the lock), so that another replica
    /// leads within a second while this one drains; reads and writes still work.
    /// </summary>
    public async Task ResignAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            await _listener;
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    public async ValueTask DisposeAsync()
    {
        await ResignAsync();
        await _data.DisposeAsync();
        await _listenerData.DisposeAsync();
        _stopping.Dispose();
    }

    /// <summary>
    /// The write and its notification as one batch: Npgsql runs a batch in one implicit transaction, so the others are
    /// told exactly when the write commits, never of a write that did not happen.
    /// </summary>
    private int WriteAndNotify(NpgsqlConnection connection, string kind, string name, string sql, params NpgsqlParameter[] parameters)
    {
        using var batch = new NpgsqlBatch(connection);
        var write = new NpgsqlBatchCommand(sql);
        write.Parameters.AddRange(parameters);
        var notify = new NpgsqlBatchCommand("SELECT pg_notify($1, $2)");
        notify.Parameters.Add(Text(NotifyChannel));
        notify.Parameters.Add(Text(Replica + "\t" + kind + "\t" + name));
        batch.BatchCommands.Add(write);
        batch.BatchCommands.Add(notify);
        return batch.ExecuteNonQuery();
    }

    /// <summary>Runs one operation on a pooled connection, creating the schema first if no one has yet; any failure is a <see cref="StateStoreException"/>.</summary>
    private T Run<T>(Func<NpgsqlConnection, T> operation)
    {
        try
        {
            using var connection = _data.OpenConnection();
            if (!_schemaReady)
            {
                CreateSchema(connection);
                _schemaReady = true;
            }

            return operation(connection);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            throw new StateStoreException("the PostgreSQL state store could not be reached or written: " + e.Message, e);
        }
    }

    private static void CreateSchema(NpgsqlConnection connection)
    {
        // Two replicas starting together would race on CREATE ... IF NOT EXISTS (it is not atomic in PostgreSQL).
        using var command = Command(connection, $"""
            SELECT pg_advisory_lock({SchemaLock});
            CREATE TABLE IF NOT EXISTS turbine_state (
                kind text NOT NULL, name text NOT NULL, body bytea NOT NULL, replica text NOT NULL,
                updated timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (kind, name));
            CREATE TABLE IF NOT EXISTS turbine_state_log (
                seq bigserial PRIMARY KEY, log text NOT NULL, body bytea NOT NULL, replica text NOT NULL,
                at timestamptz NOT NULL DEFAULT now());
            CREATE INDEX IF NOT EXISTS turbine_state_log_by_log ON turbine_state_log (log, seq);
            SELECT pg_advisory_unlock({SchemaLock});
            """);
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// Holds one connection that LISTENs for the others' changes and tries for the leader lock every second; when it
    /// breaks, leadership is given up (the server released the lock with the session), and after reconnecting every
    /// subscriber is told to read everything again, since notifications sent meanwhile were lost.
    /// </summary>
    private async Task ListenAsync()
    {
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _listenerData.OpenConnectionAsync(token);
                connection.Notification += (_, e) => OnNotification(e.Payload);
                await using (var listen = Command(connection, "LISTEN " + NotifyChannel))
                {
                    await listen.ExecuteNonQueryAsync(token);
                }

                Changed?.Invoke(StateChange.Everything);
                while (!token.IsCancellationRequested)
                {
                    if (!_leader)
                    {
                        await using var claim = Command(connection, "SELECT pg_try_advisory_lock($1)", new NpgsqlParameter { Value = LeaderLock, NpgsqlDbType = NpgsqlDbType.Bigint });
                        if ((bool)(await claim.ExecuteScalarAsync(token))!)
                        {
                            SetLeader(true);
                        }
                    }

                    await connection.WaitAsync(TimeSpan.FromSeconds(1), token);
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException or System.Net.Sockets.SocketException or IOException)
            {
                SetLeader(false);
                LogListenerLost(_logger, e.Message);
                try
                {
                    await Task.Delay(ListenerBackoff, _time, token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        SetLeader(false);
    }

    private void SetLeader(bool leader)
    {
        if (_leader != leader)
        {
            _leader = leader;
            LogLeadership(_logger, Replica, leader);
        }
    }

    private void OnNotification(string payload)
    {
        var parts = payload.Split('\t');
        if (parts.Length == 3 && parts[0] != Replica)
        {
            Changed?.Invoke(new StateChange(parts[1], parts[2]));
        }
    }

    private static NpgsqlCommand Command(NpgsqlConnection connection, string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddRange(parameters);
        return command;
    }

    private static NpgsqlParameter Text(string value) => new() { Value = value, NpgsqlDbType = NpgsqlDbType.Text };

    private static NpgsqlParameter Bytes(byte[] value) => new() { Value = value, NpgsqlDbType = NpgsqlDbType.Bytea };

    [LoggerMessage(EventId = LogEvents.StateListenerLost, Level = LogLevel.Warning, Message = "The state store's change listener lost its connection ({Reason}); reconnecting, then reading all shared state again")]
    private static partial void LogListenerLost(ILogger logger, string reason);

    [LoggerMessage(EventId = LogEvents.StateLeadershipChanged, Level = LogLevel.Information, Message = "Replica '{Replica}' leads: {Leader}")]
    private static partial void LogLeadership(ILogger logger, string replica, bool leader);
}
