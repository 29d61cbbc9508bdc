namespace Turbine.Registry;

/// <summary>What differs between the SQL databases the registry runs on: the schema's migrations and row locking.</summary>
public abstract class SqlDialect
{
    /// <summary>SQLite, the single-machine default.</summary>
    public static SqlDialect Sqlite { get; } = new SqliteDialect();

    /// <summary>PostgreSQL, for registries that several machines share.</summary>
    public static SqlDialect Postgres { get; } = new PostgresDialect();

    /// <summary>The schema's migrations in order: migration N brings the schema from version N-1 to N. Never edited once shipped; new ones are appended.</summary>
    public abstract IReadOnlyList<string> Migrations { get; }

    /// <summary>Appended to the SELECT that reads a model's row before its next version is numbered.</summary>
    public abstract string LockRow { get; }

    /// <summary>Run before migrating, in the migration's transaction: keeps two processes from migrating at once.</summary>
    public abstract string MigrationLock { get; }

    private const string Tables = """
        CREATE TABLE registry_models (name TEXT PRIMARY KEY, created_at BIGINT NOT NULL, created_by TEXT NOT NULL);
        CREATE TABLE registry_versions (
            model TEXT NOT NULL REFERENCES registry_models(name), version BIGINT NOT NULL, manifest TEXT NOT NULL,
            signature TEXT, signer TEXT, lineage TEXT NOT NULL, created_at BIGINT NOT NULL, created_by TEXT NOT NULL,
            PRIMARY KEY (model, version));
        CREATE TABLE registry_tags (
            model TEXT NOT NULL, version BIGINT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
            PRIMARY KEY (model, version, key), FOREIGN KEY (model, version) REFERENCES registry_versions(model, version));
        CREATE TABLE registry_aliases (
            model TEXT NOT NULL, alias TEXT NOT NULL, version BIGINT NOT NULL, updated_at BIGINT NOT NULL, updated_by TEXT NOT NULL,
            PRIMARY KEY (model, alias), FOREIGN KEY (model, version) REFERENCES registry_versions(model, version));
        CREATE TABLE registry_reports (
            model TEXT NOT NULL, version BIGINT NOT NULL, kind TEXT NOT NULL, at BIGINT NOT NULL, body TEXT NOT NULL,
            FOREIGN KEY (model, version) REFERENCES registry_versions(model, version));
        CREATE INDEX registry_reports_version ON registry_reports (model, version);
        """;

    private sealed class SqliteDialect : SqlDialect
    {
        public override IReadOnlyList<string> Migrations { get; } =
        [
            Tables + """
                CREATE TABLE registry_audit (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, at BIGINT NOT NULL, model TEXT NOT NULL, kind TEXT NOT NULL,
                    alias TEXT, version BIGINT, previous BIGINT, actor TEXT NOT NULL, detail TEXT NOT NULL);
                CREATE INDEX registry_audit_model ON registry_audit (model, at);
                CREATE TRIGGER registry_audit_no_update BEFORE UPDATE ON registry_audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
                CREATE TRIGGER registry_audit_no_delete BEFORE DELETE ON registry_audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
                """,
        ];

        public override string LockRow => string.Empty; // SQLite's write transactions hold the whole database

        public override string MigrationLock => "SELECT 1";
    }

    private sealed class PostgresDialect : SqlDialect
    {
        public override IReadOnlyList<string> Migrations { get; } =
        [
            Tables + """
                CREATE TABLE registry_audit (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at BIGINT NOT NULL, model TEXT NOT NULL, kind TEXT NOT NULL,
                    alias TEXT, version BIGINT, previous BIGINT, actor TEXT NOT NULL, detail TEXT NOT NULL);
                CREATE INDEX registry_audit_model ON registry_audit (model, at);
                CREATE FUNCTION registry_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS
                    $$ BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END $$;
                CREATE TRIGGER registry_audit_no_change BEFORE UPDATE OR DELETE ON registry_audit
                    FOR EACH ROW EXECUTE FUNCTION registry_audit_append_only();
                """,
        ];

        public override string LockRow => " FOR UPDATE";

        // "turbreg" in ASCII: one key for every registry sharing the database.
        public override string MigrationLock => "SELECT pg_advisory_xact_lock(8391162735744575335)";
    }
}
