using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using Turbine.Onnx.Tools;
using Turbine.Registry;
using Turbine.Server.Registry;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>
/// The registry on both of its databases (SQLite in a file, and a real PostgreSQL started by the test) with artifacts
/// in a local folder: numbering, tags, aliases, reports, the append-only audit trail, and "what pointed where at T".
/// </summary>
public sealed class RegistryStoreTests : IAsyncLifetime
{
    private readonly TestRepository _files = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
    private PostgresServer? _postgres;

    public static TheoryData<string> Databases() => ["sqlite", "postgres"];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }

        _files.Dispose();
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task Versions_are_numbered_with_their_files_tags_lineage_and_reports(string database)
    {
        var registry = await OpenAsync(database);
        var folder = ModelFolder("mlp", SampleModels.Mlp());

        var first = await registry.PushAsync(new PushRequest("mlp", Path.Combine(folder, "1"), Path.Combine(folder, "config.json"), "alice",
            new Dictionary<string, string> { ["source_run"] = "run-7", ["dataset_digest"] = "abc" }, new Dictionary<string, string> { ["stage"] = "dev" }), default);
        var second = await registry.PushAsync(new PushRequest("mlp", Path.Combine(folder, "1"), null, "bob"), default);
        await registry.Store.SetTagAsync("mlp", 1, "stage", "prod", "carol", default);
        await registry.Store.SetTagAsync("mlp", 1, "owner", "ml-team", "carol", default);
        await registry.Store.SetTagAsync("mlp", 1, "owner", null, "carol", default);
        await registry.Store.AddReportAsync(new VersionReport("mlp", 1, "scan", _time.GetUtcNow(), """{"blocked":false}"""), default);

        Assert.Equal((1, 2), (first.Version, second.Version));
        var stored = (await registry.Store.GetVersionAsync("mlp", 1, default))!;
        Assert.Equal(["config.json", "files/model.onnx"], stored.Manifest.Files.Select(f => f.Path));
        Assert.Equal(first.Manifest.Digest(), stored.Manifest.Digest());
        Assert.Equal("run-7", stored.Lineage["source_run"]);
        Assert.Equal(new Dictionary<string, string> { ["stage"] = "prod" }, stored.Tags);
        Assert.Equal("alice", stored.CreatedBy);
        Assert.Equal("scan", Assert.Single(await registry.Store.ListReportsAsync("mlp", 1, default)).Kind);
        Assert.Equal(["mlp"], (await registry.Store.ListModelsAsync(default)).Select(m => m.Name));
        Assert.Equal(stored.Manifest.Files[1].Sha256, second.Manifest.Files[0].Sha256); // the same weights, one blob
        var missing = await Assert.ThrowsAsync<RegistryException>(() => registry.Store.SetTagAsync("mlp", 9, "k", "v", "x", default));
        Assert.True(missing.NotFound);
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task The_audit_trail_answers_what_an_alias_pointed_at_at_any_time_and_who_moved_it(string database)
    {
        var registry = await OpenAsync(database);
        var folder = ModelFolder("mlp", SampleModels.Mlp());
        for (var i = 0; i < 3; i++)
        {
            await registry.PushAsync(new PushRequest("mlp", Path.Combine(folder, "1"), null, "ci"), default);
        }

        var moves = new List<DateTimeOffset>();
        foreach (var (version, actor, reason) in new[] { (1L, "alice", "first release"), (2L, "bob", "canary passed"), (3L, "bob", "canary passed"), (2L, "pager", "rollback: p99 over budget") })
        {
            _time.Advance(TimeSpan.FromHours(1));
            await registry.MoveAliasAsync("mlp", "champion", version, actor, reason, default);
            moves.Add(_time.GetUtcNow());
        }

        _time.Advance(TimeSpan.FromHours(1));
        await registry.Store.AppendAuditAsync("mlp", AuditKinds.Serving, "server-a", 2, 3, "turbine serve", "followed mlp@champion", default);

        Assert.Null(await registry.StateAtAsync("mlp", "champion", moves[0].AddMinutes(-1), default));
        var atFirst = await registry.StateAtAsync("mlp", "champion", moves[0].AddMinutes(30), default);
        Assert.Equal((1L, "alice"), (atFirst!.Version, atFirst.Actor));
        var beforeRollback = await registry.StateAtAsync("mlp", "champion", moves[3].AddSeconds(-1), default);
        Assert.Equal((3L, "bob", "canary passed"), (beforeRollback!.Version, beforeRollback.Actor, beforeRollback.Detail));
        var afterRollback = await registry.StateAtAsync("mlp", "champion", moves[3], default);
        Assert.Equal((2L, 3L, "pager"), (afterRollback!.Version, afterRollback.Previous, afterRollback.Actor));
        Assert.Equal(2, (await registry.StateAtAsync("mlp", "server-a", _time.GetUtcNow(), default))!.Version);
        Assert.Equal(2, Assert.Single(await registry.Store.ListAliasesAsync("mlp", default)).Version);

        await registry.MoveAliasAsync("mlp", "champion", null, "alice", "retired", default);
        Assert.Null(await registry.StateAtAsync("mlp", "champion", _time.GetUtcNow(), default));
        var trail = await registry.Store.AuditAsync("mlp", null, default);
        Assert.Equal(
            [AuditKinds.Registered, AuditKinds.Registered, AuditKinds.Registered, AuditKinds.AliasMoved, AuditKinds.AliasMoved, AuditKinds.AliasMoved, AuditKinds.AliasMoved, AuditKinds.Serving, AuditKinds.AliasRemoved],
            trail.Select(e => e.Kind));
        Assert.True(trail.Zip(trail.Skip(1)).All(pair => pair.First.Id < pair.Second.Id));
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task The_audit_trail_refuses_to_be_edited_or_deleted_and_migrations_run_once(string database)
    {
        var registry = await OpenAsync(database);
        await registry.PushAsync(new PushRequest("mlp", Path.Combine(ModelFolder("mlp", SampleModels.Mlp()), "1"), null, "ci"), default);
        await registry.Store.MigrateAsync(default); // a second migration is a no-op

        await using var connection = Connect(database);
        await connection.OpenAsync();
        foreach (var sql in new[] { "UPDATE registry_audit SET actor = 'mallory'", "DELETE FROM registry_audit" })
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            var error = await Assert.ThrowsAnyAsync<DbException>(() => command.ExecuteNonQueryAsync());
            Assert.Contains("append-only", error.Message, StringComparison.Ordinal);
        }

        await using var schema = connection.CreateCommand();
        schema.CommandText = "SELECT COUNT(*) FROM registry_schema";
        Assert.Equal(1L, Convert.ToInt64(await schema.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task Names_and_values_with_quotes_and_sql_are_stored_verbatim_or_refused(string database)
    {
        var registry = await OpenAsync(database);
        var folder = Path.Combine(ModelFolder("mlp", SampleModels.Mlp()), "1");

        var badName = await Assert.ThrowsAsync<RegistryException>(() => registry.PushAsync(new PushRequest("mlp'; DROP TABLE registry_versions; --", folder, null, "x"), default));
        var numericAlias = await Assert.ThrowsAsync<RegistryException>(() => registry.MoveAliasAsync("mlp", "7", 1, "x", "y", default));
        await registry.PushAsync(new PushRequest("mlp", folder, null, "o'brien\"; --", Tags: new Dictionary<string, string> { ["note"] = "'); DELETE FROM registry_audit; --" }), default);

        Assert.Contains("not a valid model name", badName.Message, StringComparison.Ordinal);
        Assert.Contains("would read as a version number", numericAlias.Message, StringComparison.Ordinal);
        var stored = (await registry.Store.GetVersionAsync("mlp", 1, default))!;
        Assert.Equal("o'brien\"; --", stored.CreatedBy);
        Assert.Equal("'); DELETE FROM registry_audit; --", stored.Tags["note"]);
        Assert.Single(await registry.Store.AuditAsync("mlp", null, default));
    }

    private async Task<ModelRegistry> OpenAsync(string database)
    {
        var store = database == "sqlite"
            ? RegistryDatabases.Sqlite(Path.Combine(_files.Root, "registry", "registry.db"), _time)
            : RegistryDatabases.Postgres((_postgres = await PostgresServer.StartAsync()).ConnectionString, _time);
        await store.MigrateAsync(default);
        return new ModelRegistry(store, new LocalArtifactStore(Path.Combine(_files.Root, "registry", "artifacts")), _time);
    }

    private DbConnection Connect(string database) => database == "sqlite"
        ? new SqliteConnection($"Data Source={Path.Combine(_files.Root, "registry", "registry.db")}")
        : new Npgsql.NpgsqlConnection(_postgres!.ConnectionString);

    private string ModelFolder(string name, byte[] onnx)
    {
        _files.Add(name, onnx, """{ "max_batch_size": 8 }""");
        return Path.Combine(_files.Root, name);
    }
}
