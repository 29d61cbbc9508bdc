using System.Data;
using System.Data.Common;
using System.Text.Json;
using Turbine.Core.Sql;
using static Turbine.Core.Sql.SqlDatabase;

namespace Turbine.Registry;

/// <summary>
/// The registry's metadata in a SQL database through plain ADO.NET: SQLite or PostgreSQL, whichever driver the host
/// hands in (<paramref name="connect"/>), with the <see cref="SqlDialect"/>'s schema. Every statement takes its values
/// as parameters (SECURITY.md A20). Times are stored as Unix milliseconds.
/// </summary>
public sealed class SqlRegistryStore(Func<DbConnection> connect, SqlDialect dialect, TimeProvider time) : IRegistryStore
{
    private readonly SqlDatabase _database = new(connect);
    private static readonly JsonSerializerOptions Json = new();

    /// <inheritdoc />
    public Task MigrateAsync(CancellationToken cancellationToken) =>
        _database.MigrateAsync("registry_schema", dialect.Migrations, dialect.MigrationLock, cancellationToken);

    /// <inheritdoc />
    public async Task<ModelVersion> AddVersionAsync(string model, string actor, Func<long, ModelVersion> build, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(build);
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
        var now = time.GetUtcNow();
        await ExecuteAsync(Command(connection, transaction, "INSERT INTO registry_models (name, created_at, created_by) VALUES (@name, @at, @by) ON CONFLICT (name) DO NOTHING",
            ("name", model), ("at", now.ToUnixTimeMilliseconds()), ("by", actor)), cancellationToken);
        await ExecuteAsync(Command(connection, transaction, "SELECT name FROM registry_models WHERE name = @name" + dialect.LockRow, ("name", model)), cancellationToken);
        await using var next = Command(connection, transaction, "SELECT COALESCE(MAX(version), 0) + 1 FROM registry_versions WHERE model = @model", ("model", model));
        var number = Convert.ToInt64(await next.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        var version = build(number);
        await ExecuteAsync(Command(connection, transaction, "INSERT INTO registry_versions (model, version, manifest, signature, signer, lineage, created_at, created_by) VALUES (@model, @version, @manifest, @signature, @signer, @lineage, @at, @by)",
            ("model", model), ("version", number), ("manifest", version.Manifest.ToJson()), ("signature", version.Signature), ("signer", version.Signer),
            ("lineage", JsonSerializer.Serialize(version.Lineage, Json)), ("at", version.CreatedAt.ToUnixTimeMilliseconds()), ("by", version.CreatedBy)), cancellationToken);
        foreach (var (key, value) in version.Tags)
        {
            await ExecuteAsync(Command(connection, transaction, "INSERT INTO registry_tags (model, version, key, value) VALUES (@model, @version, @key, @value)", ("model", model), ("version", number), ("key", key), ("value", value)), cancellationToken);
        }

        await AuditAsync(connection, transaction, model, AuditKinds.Registered, null, number, null, actor, $"manifest {version.Manifest.Digest()}{(version.Signer is null ? ", unsigned" : $", signed by {version.Signer}")}", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return version;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<RegisteredModel>> ListModelsAsync(CancellationToken cancellationToken) =>
        await _database.QueryAsync("SELECT name, created_at, created_by FROM registry_models ORDER BY name", r => new RegisteredModel(r.GetString(0), Time(r, 1), r.GetString(2)), cancellationToken);

    /// <inheritdoc />
    public async Task<ModelVersion?> GetVersionAsync(string model, long version, CancellationToken cancellationToken) =>
        (await VersionsAsync(model, version, cancellationToken)).SingleOrDefault();

    /// <inheritdoc />
    public Task<IReadOnlyList<ModelVersion>> ListVersionsAsync(string model, CancellationToken cancellationToken) => VersionsAsync(model, null, cancellationToken);

    /// <inheritdoc />
    public async Task SetTagAsync(string model, long version, string key, string? value, string actor, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await RequireVersionAsync(connection, transaction, model, version, cancellationToken);
        await ExecuteAsync(Command(connection, transaction, "DELETE FROM registry_tags WHERE model = @model AND version = @version AND key = @key", ("model", model), ("version", version), ("key", key)), cancellationToken);
        if (value is not null)
        {
            await ExecuteAsync(Command(connection, transaction, "INSERT INTO registry_tags (model, version, key, value) VALUES (@model, @version, @key, @value)", ("model", model), ("version", version), ("key", key), ("value", value)), cancellationToken);
        }

        await AuditAsync(connection, transaction, model, AuditKinds.Tagged, null, version, null, actor, value is null ? $"{key} removed" : $"{key}={value}", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<AliasRecord>> ListAliasesAsync(string model, CancellationToken cancellationToken) =>
        await _database.QueryAsync(
            "SELECT model, alias, version, updated_at, updated_by FROM registry_aliases WHERE model = @model ORDER BY alias",
            r => new AliasRecord(r.GetString(0), r.GetString(1), r.GetInt64(2), Time(r, 3), r.GetString(4)), cancellationToken, ("model", model));

    /// <inheritdoc />
    public async Task<AliasRecord?> MoveAliasAsync(string model, string aliasName, long? version, string actor, string reason, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var current = Command(connection, transaction, "SELECT version FROM registry_aliases WHERE model = @model AND alias = @alias" + dialect.LockRow, ("model", model), ("alias", aliasName));
        var previous = await current.ExecuteScalarAsync(cancellationToken) is { } found and not DBNull ? Convert.ToInt64(found, System.Globalization.CultureInfo.InvariantCulture) : (long?)null;
        var now = time.GetUtcNow();
        AliasRecord? moved = null;
        if (version is { } target)
        {
            await RequireVersionAsync(connection, transaction, model, target, cancellationToken);
            await ExecuteAsync(Command(connection, transaction, "INSERT INTO registry_aliases (model, alias, version, updated_at, updated_by) VALUES (@model, @alias, @version, @at, @by) " +
                "ON CONFLICT (model, alias) DO UPDATE SET version = @version, updated_at = @at, updated_by = @by",
                ("model", model), ("alias", aliasName), ("version", target), ("at", now.ToUnixTimeMilliseconds()), ("by", actor)), cancellationToken);
            moved = new AliasRecord(model, aliasName, target, now, actor);
        }
        else if (previous is null)
        {
            throw new RegistryException($"model '{model}' has no alias '{aliasName}'") { NotFound = true };
        }
        else
        {
            await ExecuteAsync(Command(connection, transaction, "DELETE FROM registry_aliases WHERE model = @model AND alias = @alias", ("model", model), ("alias", aliasName)), cancellationToken);
        }

        await AuditAsync(connection, transaction, model, version is null ? AuditKinds.AliasRemoved : AuditKinds.AliasMoved, aliasName, version, previous, actor, reason, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return moved;
    }

    /// <inheritdoc />
    public async Task AppendAuditAsync(string model, string kind, string? subject, long? version, long? previous, string actor, string detail, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await AuditAsync(connection, null, model, kind, subject, version, previous, actor, detail, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<AuditEntry>> AuditAsync(string model, DateTimeOffset? until, CancellationToken cancellationToken) =>
        await _database.QueryAsync(
            "SELECT id, at, model, kind, alias, version, previous, actor, detail FROM registry_audit WHERE model = @model AND at <= @until ORDER BY id",
            r => new AuditEntry(r.GetInt64(0), Time(r, 1), r.GetString(2), r.GetString(3), r.IsDBNull(4) ? null : r.GetString(4),
                r.IsDBNull(5) ? null : r.GetInt64(5), r.IsDBNull(6) ? null : r.GetInt64(6), r.GetString(7), r.GetString(8)),
            cancellationToken, ("model", model), ("until", (until ?? DateTimeOffset.MaxValue).ToUnixTimeMilliseconds()));

    /// <inheritdoc />
    public async Task AddReportAsync(VersionReport report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await RequireVersionAsync(connection, transaction, report.Model, report.Version, cancellationToken);
        await ExecuteAsync(Command(connection, transaction, "INSERT INTO registry_reports (model, version, kind, at, body) VALUES (@model, @version, @kind, @at, @body)",
            ("model", report.Model), ("version", report.Version), ("kind", report.Kind), ("at", report.At.ToUnixTimeMilliseconds()), ("body", report.Body)), cancellationToken);
        await AuditAsync(connection, transaction, report.Model, AuditKinds.Report, null, report.Version, null, "registry", report.Kind, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<VersionReport>> ListReportsAsync(string model, long version, CancellationToken cancellationToken) =>
        await _database.QueryAsync(
            "SELECT model, version, kind, at, body FROM registry_reports WHERE model = @model AND version = @version ORDER BY at",
            r => new VersionReport(r.GetString(0), r.GetInt64(1), r.GetString(2), Time(r, 3), r.GetString(4)), cancellationToken, ("model", model), ("version", version));

    private async Task<IReadOnlyList<ModelVersion>> VersionsAsync(string model, long? version, CancellationToken cancellationToken)
    {
        var filter = version is null ? string.Empty : " AND version = @version";
        var tags = (await _database.QueryAsync(
                "SELECT version, key, value FROM registry_tags WHERE model = @model" + filter,
                r => (Version: r.GetInt64(0), Key: r.GetString(1), Value: r.GetString(2)), cancellationToken, ("model", model), ("version", version ?? 0)))
            .ToLookup(t => t.Version);
        return await _database.QueryAsync(
            "SELECT version, manifest, signature, signer, lineage, created_at, created_by FROM registry_versions WHERE model = @model" + filter + " ORDER BY version",
            r => new ModelVersion(
                model, r.GetInt64(0), ArtifactManifest.Parse(r.GetString(1)), r.IsDBNull(2) ? null : r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3),
                JsonSerializer.Deserialize<Dictionary<string, string>>(r.GetString(4), Json) ?? [],
                tags[r.GetInt64(0)].ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal), Time(r, 5), r.GetString(6)),
            cancellationToken, ("model", model), ("version", version ?? 0));
    }

    private static async Task RequireVersionAsync(DbConnection connection, DbTransaction transaction, string model, long version, CancellationToken cancellationToken)
    {
        await using var exists = Command(connection, transaction, "SELECT COUNT(*) FROM registry_versions WHERE model = @model AND version = @version", ("model", model), ("version", version));
        if (Convert.ToInt64(await exists.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) == 0)
        {
            throw new RegistryException($"model '{model}' has no version {version}") { NotFound = true };
        }
    }

    private async Task AuditAsync(DbConnection connection, DbTransaction? transaction, string model, string kind, string? subject, long? version, long? previous, string actor, string detail, CancellationToken cancellationToken) =>
        await ExecuteAsync(Command(connection, transaction, "INSERT INTO registry_audit (at, model, kind, alias, version, previous, actor, detail) VALUES (@at, @model, @kind, @alias, @version, @previous, @actor, @detail)",
            ("at", time.GetUtcNow().ToUnixTimeMilliseconds()), ("model", model), ("kind", kind), ("alias", subject), ("version", version), ("previous", previous), ("actor", actor), ("detail", detail)), cancellationToken);
}
