using System.Data.Common;
using System.Globalization;

namespace Turbine.Core.Sql;

/// <summary>
/// Plain ADO.NET over whichever driver the host hands in (SQLite or PostgreSQL): connections, commands whose values are
/// always parameters (SECURITY.md A20), and a schema brought up to date by numbered migrations. The registry and the job
/// store share it; Core itself knows no driver.
/// </summary>
public sealed class SqlDatabase(Func<DbConnection> connect)
{
    /// <summary>An open connection; the caller disposes it.</summary>
    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = connect();
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    /// <summary>
    /// Applies the migrations <paramref name="schemaTable"/> has not recorded, in one transaction that starts with
    /// <paramref name="migrationLock"/> so two processes never migrate at once. Migration N brings the schema from version
    /// N-1 to N; shipped migrations are never edited, new ones are appended.
    /// </summary>
    public async Task MigrateAsync(string schemaTable, IReadOnlyList<string> migrations, string migrationLock, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(migrations);
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(Command(connection, transaction, migrationLock), cancellationToken);

        // Under the lock: PostgreSQL's CREATE TABLE IF NOT EXISTS is not safe against itself when two processes race.
        await ExecuteAsync(Command(connection, transaction, $"CREATE TABLE IF NOT EXISTS {schemaTable} (version BIGINT NOT NULL)"), cancellationToken);
        await using var read = Command(connection, transaction, $"SELECT COALESCE(MAX(version), 0) FROM {schemaTable}");
        var current = Convert.ToInt64(await read.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        for (var next = current; next < migrations.Count; next++)
        {
            await ExecuteAsync(Command(connection, transaction, migrations[(int)next]), cancellationToken);
            await ExecuteAsync(Command(connection, transaction, $"INSERT INTO {schemaTable} (version) VALUES (@version)", ("version", next + 1)), cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Runs <paramref name="sql"/> on a connection of its own and reads every row.</summary>
    public async Task<IReadOnlyList<T>> QueryAsync<T>(string sql, Func<DbDataReader, T> read, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await QueryAsync(Command(connection, null, sql, parameters), read, cancellationToken);
    }

    /// <summary>Runs <paramref name="sql"/> on a connection of its own; the rows it changed.</summary>
    public async Task<int> ExecuteAsync(string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await ExecuteAsync(Command(connection, null, sql, parameters), cancellationToken);
    }

    /// <summary>Reads every row of <paramref name="command"/>, then disposes it.</summary>
    public static async Task<IReadOnlyList<T>> QueryAsync<T>(DbCommand command, Func<DbDataReader, T> read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(read);
        await using (command)
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var rows = new List<T>();
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add(read(reader));
            }

            return rows;
        }
    }

    /// <summary>Runs <paramref name="command"/>, then disposes it; the rows it changed.</summary>
    public static async Task<int> ExecuteAsync(DbCommand command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        await using (command)
        {
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>A command with its values as parameters (<c>@name</c> in the SQL).</summary>
    public static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(parameters);
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }

        return command;
    }

    /// <summary>A time stored as Unix milliseconds.</summary>
    public static DateTimeOffset Time(DbDataReader reader, int column)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(column));
    }

    /// <summary>A time stored as Unix milliseconds, or SQL NULL.</summary>
    public static DateTimeOffset? TimeOrNull(DbDataReader reader, int column)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return reader.IsDBNull(column) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(column));
    }
}
