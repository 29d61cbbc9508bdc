namespace Turbine.Registry;

/// <summary>
/// Where the registry keeps its metadata (SQLite by default, PostgreSQL for shared use; the host wires the driver).
/// Every change that moves what serves is written with its audit entry in one transaction, and the audit trail only
/// grows.
/// </summary>
public interface IRegistryStore
{
    /// <summary>Brings the schema up to date (versioned migrations, each applied once, in order).</summary>
    Task MigrateAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Registers the next version of <paramref name="model"/> (creating the model on its first version): the number is
    /// assigned under the store's lock and handed to <paramref name="build"/> (which signs the manifest that names it).
    /// </summary>
    Task<ModelVersion> AddVersionAsync(string model, string actor, Func<long, ModelVersion> build, CancellationToken cancellationToken);

    Task<IReadOnlyList<RegisteredModel>> ListModelsAsync(CancellationToken cancellationToken);

    Task<ModelVersion?> GetVersionAsync(string model, long version, CancellationToken cancellationToken);

    Task<IReadOnlyList<ModelVersion>> ListVersionsAsync(string model, CancellationToken cancellationToken);

    /// <summary>Sets (or with a null value, removes) a tag of a version.</summary>
    Task SetTagAsync(string model, long version, string key, string? value, string actor, CancellationToken cancellationToken);

    Task<IReadOnlyList<AliasRecord>> ListAliasesAsync(string model, CancellationToken cancellationToken);

    /// <summary>Points <paramref name="aliasName"/> at <paramref name="version"/> (or removes it when null), with its audit entry.</summary>
    Task<AliasRecord?> MoveAliasAsync(string model, string aliasName, long? version, string actor, string reason, CancellationToken cancellationToken);

    /// <summary>Appends an entry (serving changes, pipeline stages) to the audit trail; <paramref name="subject"/> names the alias, server or route concerned.</summary>
    Task AppendAuditAsync(string model, string kind, string? subject, long? version, long? previous, string actor, string detail, CancellationToken cancellationToken);

    /// <summary>The audit trail of a model, oldest first, up to <paramref name="until"/> when given.</summary>
    Task<IReadOnlyList<AuditEntry>> AuditAsync(string model, DateTimeOffset? until, CancellationToken cancellationToken);

    Task AddReportAsync(VersionReport report, CancellationToken cancellationToken);

    Task<IReadOnlyList<VersionReport>> ListReportsAsync(string model, long version, CancellationToken cancellationToken);
}
