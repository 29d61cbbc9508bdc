namespace Turbine.Registry;

/// <summary>A registered model: the name its versions and aliases hang under.</summary>
public sealed record RegisteredModel(string Name, DateTimeOffset CreatedAt, string CreatedBy);

/// <summary>One registered version.</summary>
/// <param name="Model">The model.</param>
/// <param name="Version">Its number, from 1, assigned by the registry.</param>
/// <param name="Manifest">Its files and their digests.</param>
/// <param name="Signature">Base64 ECDSA P-256 signature over the manifest; null when unsigned.</param>
/// <param name="Signer">Who signed: a name and the key's id; null when unsigned.</param>
/// <param name="Lineage">Free-form provenance: <c>source_run</c>, <c>dataset_digest</c>, <c>parent_version</c>, <c>passes</c>, ...</param>
/// <param name="Tags">Labels set at registration or later.</param>
/// <param name="CreatedAt">When it was registered.</param>
/// <param name="CreatedBy">Who registered it.</param>
public sealed record ModelVersion(
    string Model,
    long Version,
    ArtifactManifest Manifest,
    string? Signature,
    string? Signer,
    IReadOnlyDictionary<string, string> Lineage,
    IReadOnlyDictionary<string, string> Tags,
    DateTimeOffset CreatedAt,
    string CreatedBy);

/// <summary>A name (<c>champion</c>, <c>challenger</c>, anything) that points at one version of a model.</summary>
public sealed record AliasRecord(string Model, string Alias, long Version, DateTimeOffset UpdatedAt, string UpdatedBy);

/// <summary>A report kept with a version: validation, scan, optimization, benchmark, a pipeline stage.</summary>
public sealed record VersionReport(string Model, long Version, string Kind, DateTimeOffset At, string Body);

/// <summary>One line of the append-only audit trail.</summary>
/// <param name="Id">Its place in the trail (increasing).</param>
/// <param name="At">When.</param>
/// <param name="Model">The model.</param>
/// <param name="Kind">One of <see cref="AuditKinds"/>.</param>
/// <param name="Alias">The alias moved, or the server or route whose serving changed; null otherwise.</param>
/// <param name="Version">The version it concerns (the alias's new target, the version now serving).</param>
/// <param name="Previous">The version before (an alias's old target); null when there was none.</param>
/// <param name="Actor">Who did it.</param>
/// <param name="Detail">Why, or what, in words.</param>
public sealed record AuditEntry(long Id, DateTimeOffset At, string Model, string Kind, string? Alias, long? Version, long? Previous, string Actor, string Detail);

/// <summary>The kinds of audit entry.</summary>
public static class AuditKinds
{
    public const string Registered = "version-registered";
    public const string AliasMoved = "alias-moved";
    public const string AliasRemoved = "alias-removed";
    public const string Tagged = "tagged";
    public const string Serving = "serving-changed";
    public const string ServingRefused = "serving-refused";
    public const string PipelineStage = "pipeline-stage";
    public const string Report = "report-added";
}
