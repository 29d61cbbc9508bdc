using System.Globalization;
using System.Security.Cryptography;
using Turbine.Core.Repository;

namespace Turbine.Registry;

/// <summary>What a push registers.</summary>
/// <param name="Model">The registered model's name (the repository's name rules).</param>
/// <param name="VersionFolder">The folder whose files become the version (as a repository's version folder holds them).</param>
/// <param name="ConfigPath">The model's config (<c>config.json</c> or <c>config.pbtxt</c>); null for none.</param>
/// <param name="Actor">Who pushes.</param>
/// <param name="Lineage">Free-form provenance.</param>
/// <param name="Tags">Tags to set.</param>
/// <param name="Signer">Signs the manifest; null registers the version unsigned.</param>
public sealed record PushRequest(
    string Model,
    string VersionFolder,
    string? ConfigPath,
    string Actor,
    IReadOnlyDictionary<string, string>? Lineage = null,
    IReadOnlyDictionary<string, string>? Tags = null,
    ManifestSigner? Signer = null);

/// <summary>
/// The registry's operations over a metadata store and an artifact store: push (files hashed and stored by digest
/// first, the version registered last, so a process killed mid-push leaves no half-registered version), resolve a
/// version or alias, materialize a version into a serving repository (staged, verified, renamed into place), move
/// aliases, and read the audit trail back as "what pointed where at time T, and who moved it".
/// </summary>
public sealed class ModelRegistry(IRegistryStore store, IArtifactStore artifacts, TimeProvider time)
{
    private const string StagingFolder = ".registry-staging";
    private static readonly string[] ConfigFiles = ["config.json", "config.pbtxt"];

    /// <summary>The metadata store, for listing and reports.</summary>
    public IRegistryStore Store => store;

    /// <summary>Registers the next version of a model from a folder of files.</summary>
    /// <exception cref="RegistryException">A bad name, an unsafe file name or a link, or a file that changed while it was pushed.</exception>
    public async Task<ModelVersion> PushAsync(PushRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        CheckName(request.Model, "model");
        var files = new List<(string BundlePath, string Source)>();
        if (request.ConfigPath is { } config)
        {
            var name = Path.GetFileName(config);
            files.Add((ConfigFiles.Contains(name) ? name : throw new RegistryException("the config must be config.json or config.pbtxt"), config));
        }

        foreach (var path in Directory.EnumerateFiles(request.VersionFolder, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            if (new FileInfo(path).LinkTarget is not null)
            {
                throw new RegistryException($"'{ClientText.Quote(Path.GetRelativePath(request.VersionFolder, path))}' is a link; push the file itself");
            }

            files.Add((BundlePaths.Check(ArtifactManifest.FilesPrefix + Path.GetRelativePath(request.VersionFolder, path).Replace('\\', '/')), path));
        }

        if (files.Count == (request.ConfigPath is null ? 0 : 1))
        {
            throw new RegistryException($"{Path.GetFileName(request.VersionFolder)} holds no files to register");
        }

        var entries = new List<ArtifactFile>();
        foreach (var (bundlePath, source) in files)
        {
            var (digest, size) = await artifacts.PutAsync(source, cancellationToken);
            entries.Add(new ArtifactFile(bundlePath, size, digest));
        }

        return await store.AddVersionAsync(request.Model, request.Actor, number =>
        {
            var manifest = new ArtifactManifest(request.Model, number, [.. entries.OrderBy(e => e.Path, StringComparer.Ordinal)]);
            return new ModelVersion(
                request.Model, number, manifest, request.Signer?.Sign(manifest), request.Signer?.Identity,
                request.Lineage ?? new Dictionary<string, string>(), request.Tags ?? new Dictionary<string, string>(), time.GetUtcNow(), request.Actor);
        }, cancellationToken);
    }

    /// <summary>
    /// Registers the next version from an archive (zip, tar or tar.gz) of a model folder: its config at the top and one
    /// numbered version folder. Extracted with the shared extractor's rules (SECURITY.md A3) into a fresh folder that
    /// is deleted afterwards, whatever happened.
    /// </summary>
    /// <exception cref="RegistryException">The archive breaks a rule or does not hold one model version.</exception>
    public async Task<ModelVersion> PushArchiveAsync(string model, Stream archive, string actor, ArchiveLimits limits, CancellationToken cancellationToken)
    {
        var staging = Path.Combine(Path.GetTempPath(), $"turbine-push-{Guid.NewGuid():N}");
        try
        {
            try
            {
                await ArchiveExtractor.ExtractAsync(archive, staging, limits, cancellationToken);
            }
            catch (InvalidDataException e)
            {
                throw new RegistryException($"the archive is refused: {e.Message}");
            }

            var versions = Directory.GetDirectories(staging).Where(d => ModelNames.TryParseVersion(Path.GetFileName(d), out _)).ToList();
            if (versions.Count != 1)
            {
                throw new RegistryException($"the archive must hold one numbered version folder beside the model's config; it holds {versions.Count}");
            }

            var config = ConfigFiles.Select(name => Path.Combine(staging, name)).FirstOrDefault(File.Exists);
            return await PushAsync(new PushRequest(model, versions[0], config, actor), cancellationToken);
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    /// <summary>The version a reference names: a number, or an alias (<c>champion</c>).</summary>
    /// <exception cref="RegistryException">No such version or alias (NotFound).</exception>
    public async Task<ModelVersion> ResolveAsync(string model, string versionOrAlias, CancellationToken cancellationToken)
    {
        long number;
        if (ModelNames.TryParseVersion(versionOrAlias, out var parsed))
        {
            number = parsed;
        }
        else
        {
            var alias = (await store.ListAliasesAsync(model, cancellationToken)).FirstOrDefault(a => a.Alias == versionOrAlias)
                ?? throw new RegistryException($"model '{ClientText.Quote(model)}' has no alias '{ClientText.Quote(versionOrAlias)}'") { NotFound = true };
            number = alias.Version;
        }

        return await store.GetVersionAsync(model, number, cancellationToken)
            ?? throw new RegistryException($"model '{ClientText.Quote(model)}' has no version {number}") { NotFound = true };
    }

    /// <summary>
    /// Writes a version into <paramref name="repository"/> as <c>model/N</c> with the model's config: downloaded into a
    /// staging folder, every file checked against its digest, the signature checked when a verifier is given, then
    /// renamed into place, so a server polling the repository never sees a half-written version and a process killed
    /// mid-way leaves only the staging folder (cleared on the next run).
    /// </summary>
    /// <returns>The version folder.</returns>
    /// <exception cref="RegistryException">The version fails its checks; nothing is written then.</exception>
    public async Task<string> MaterializeAsync(ModelVersion version, string repository, SignatureVerifier? verifier, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(version);
        CheckName(version.Model, "model");
        if (version.Manifest.Model != version.Model || version.Manifest.Version != version.Version)
        {
            throw new RegistryException($"{version.Model} version {version.Version}: its manifest names {ClientText.Quote(version.Manifest.Model)} version {version.Manifest.Version}");
        }

        if (verifier?.Check(version) is { } refused)
        {
            throw new RegistryException(refused);
        }

        var modelFolder = Path.Combine(repository, version.Model);
        var target = Path.Combine(modelFolder, version.Version.ToString(CultureInfo.InvariantCulture));
        ClearAbandonedStaging(repository);
        var staging = Path.Combine(repository, StagingFolder, $"{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        try
        {
            foreach (var file in version.Manifest.Files)
            {
                var path = BundlePaths.Under(staging, file.Path);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                await artifacts.GetAsync(file.Sha256, path, cancellationToken);
                if (await DigestAsync(path, cancellationToken) != file.Sha256)
                {
                    throw new RegistryException($"{version.Model} version {version.Version}: '{file.Path}' does not match its digest (the artifact store holds other bytes)");
                }
            }

            Directory.CreateDirectory(modelFolder);
            var stagedFiles = Path.Combine(staging, ArtifactManifest.FilesPrefix.TrimEnd('/'));
            if (!Directory.Exists(target))
            {
                Directory.Move(stagedFiles, target);
            }

            foreach (var config in ConfigFiles.Where(name => File.Exists(Path.Combine(staging, name))))
            {
                File.Move(Path.Combine(staging, config), Path.Combine(modelFolder, config), overwrite: true);
            }

            return target;
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>Points an alias at a version (or removes it), recorded with who and why.</summary>
    public Task<AliasRecord?> MoveAliasAsync(string model, string alias, long? version, string actor, string reason, CancellationToken cancellationToken)
    {
        CheckName(alias, "alias");
        if (ModelNames.TryParseVersion(alias, out _))
        {
            throw new RegistryException($"'{alias}' would read as a version number; an alias needs a letter");
        }

        return store.MoveAliasAsync(model, alias, version, actor, reason, cancellationToken);
    }

    /// <summary>
    /// The audit entry that set what <paramref name="subject"/> (an alias, or a server's serving record) pointed at
    /// at <paramref name="at"/>: its version, when, and who. Null when nothing had set it yet or it was removed.
    /// </summary>
    public async Task<AuditEntry?> StateAtAsync(string model, string subject, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var entry = (await store.AuditAsync(model, at, cancellationToken))
            .LastOrDefault(e => e.Alias == subject && e.Kind is AuditKinds.AliasMoved or AuditKinds.AliasRemoved or AuditKinds.Serving);
        return entry is { Kind: AuditKinds.AliasRemoved } ? null : entry;
    }

    /// <summary>
    /// Deletes the staging folders of materializations whose process is gone (a kill -9 mid-way): each is named after
    /// its process id, so a folder another live process is filling is left alone.
    /// </summary>
    public static void ClearAbandonedStaging(string repository)
    {
        var staging = Path.Combine(repository, StagingFolder);
        if (!Directory.Exists(staging))
        {
            return;
        }

        foreach (var folder in Directory.EnumerateDirectories(staging))
        {
            var owner = Path.GetFileName(folder).Split('-')[0];
            if (int.TryParse(owner, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && !IsRunning(pid))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void CheckName(string name, string what)
    {
        if (!ModelNames.IsValid(name))
        {
            throw new RegistryException($"'{ClientText.Quote(name)}' is not a valid {what} name (letters, digits, '.', '_' and '-', starting with a letter or digit)");
        }
    }

    private static async Task<string> DigestAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
    }
}
