using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Turbine.Registry;
using Turbine.Server.Registry;

namespace Turbine.Cli.Commands;

/// <summary>
/// <c>turbine registry push|list|show|alias|tag|pull|verify|history</c> on a registry folder (SQLite and local
/// artifacts) or a PostgreSQL database with the folder's artifacts. Exit codes: 0 done, 1 usage, 2 refused (with the
/// reason), 3 a verification that failed.
/// </summary>
internal static class RegistryCommand
{
    public static Command Create()
    {
        var command = new Command("registry", "Register model versions with digests and signatures, move aliases, materialize and audit them");
        command.Subcommands.Add(Push());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Show());
        command.Subcommands.Add(Alias());
        command.Subcommands.Add(Tag());
        command.Subcommands.Add(Pull());
        command.Subcommands.Add(Verify());
        command.Subcommands.Add(History());
        return command;
    }

    private static Command Push()
    {
        var location = new RegistryLocation();
        var folder = new Argument<DirectoryInfo>("model-dir") { Description = "The model's folder (config and numbered versions), as in a repository" };
        var name = new Option<string?>("--name") { Description = "The registered model's name (default: the folder's)" };
        var version = new Option<long?>("--version") { Description = "The folder's version to push (default: the latest)" };
        var signKey = new Option<FileInfo?>("--sign-key") { Description = "A PEM ECDSA P-256 private key that signs the version's manifest" };
        var signer = new Option<string?>("--signer") { Description = "The signer's name recorded with the signature (default: the actor)" };
        var tags = new Option<string[]>("--tag") { Description = "key=value, repeatable", AllowMultipleArgumentsPerToken = true };
        var lineage = new Option<string[]>("--lineage") { Description = "key=value provenance (source_run, dataset_digest, parent_version, passes), repeatable", AllowMultipleArgumentsPerToken = true };
        var command = new Command("push", "Register a model folder's version: files hashed and stored, manifest signed, version numbered") { folder, name, version, signKey, signer, tags, lineage };
        location.AddTo(command);
        command.SetAction((parse, token) => location.RunAsync(parse, async registry =>
        {
            var modelFolder = parse.GetValue(folder)!.FullName;
            var source = parse.GetValue(version) ?? Directory.EnumerateDirectories(modelFolder)
                .Select(d => long.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0).DefaultIfEmpty(0).Max();
            var versionFolder = Path.Combine(modelFolder, source.ToString(CultureInfo.InvariantCulture));
            if (!Directory.Exists(versionFolder))
            {
                throw new RegistryException($"{modelFolder} has no version folder {source}");
            }

            var config = ConfigFiles.Select(c => Path.Combine(modelFolder, c)).FirstOrDefault(File.Exists);
            using var signing = parse.GetValue(signKey) is { } key ? ManifestSigner.FromPemFile(key.FullName, parse.GetValue(signer) ?? location.Actor(parse)) : null;
            var pushed = await registry.PushAsync(new PushRequest(
                parse.GetValue(name) ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(modelFolder)), versionFolder, config, location.Actor(parse),
                Pairs(parse.GetValue(lineage)), Pairs(parse.GetValue(tags)), signing), token);
            Console.WriteLine($"registered {pushed.Model} version {pushed.Version}: {pushed.Manifest.Files.Count} files, manifest {pushed.Manifest.Digest()[..16]}, {(pushed.Signer is null ? "unsigned" : $"signed by {pushed.Signer}")}");
        }));
        return command;
    }

    private static Command List()
    {
        var location = new RegistryLocation();
        var model = new Argument<string?>("model") { Description = "A model: its versions and aliases (default: every model)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("list", "List registered models, or one model's versions and aliases") { model };
        location.AddTo(command);
        command.SetAction((parse, token) => location.RunAsync(parse, async registry =>
        {
            if (parse.GetValue(model) is not { } name)
            {
                foreach (var registered in await registry.Store.ListModelsAsync(token))
                {
                    Console.WriteLine($"{registered.Name,-32} registered {registered.CreatedAt:yyyy-MM-dd HH:mm:ss} by {registered.CreatedBy}");
                }

                return;
            }

            var aliases = (await registry.Store.ListAliasesAsync(name, token)).ToLookup(a => a.Version, a => a.Alias);
            foreach (var version in await registry.Store.ListVersionsAsync(name, token))
            {
                var names = aliases[version.Version].ToList();
                Console.WriteLine($"{version.Version,5}  {version.CreatedAt:yyyy-MM-dd HH:mm:ss}  {version.CreatedBy,-12} {(version.Signer is null ? "unsigned" : "signed"),-8} {version.Manifest.Digest()[..16]}{(names.Count > 0 ? "  @" + string.Join(" @", names) : string.Empty)}");
            }
        }));
        return command;
    }

    private static Command Show()
    {
        var location = new RegistryLocation();
        var model = new Argument<string>("model");
        var reference = new Argument<string>("version") { Description = "A version number or an alias" };
        var command = new Command("show", "A version's manifest, signature, lineage, tags and reports, as JSON") { model, reference };
        location.AddTo(command);
        command.SetAction((parse, token) => location.RunAsync(parse, async registry =>
        {
            var version = await registry.ResolveAsync(parse.GetValue(model)!, parse.GetValue(reference)!, token);
            var reports = await registry.Store.ListReportsAsync(version.Model, version.Version, token);
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                model = version.Model,
                version = version.Version,
                created_at = version.CreatedAt,
                created_by = version.CreatedBy,
                manifest_digest = version.Manifest.Digest(),
                files = version.Manifest.Files.Select(f => new { path = f.Path, size = f.Size, sha256 = f.Sha256 }),
                signer = version.Signer,
                signature = version.Signature,
                lineage = version.Lineage,
                tags = version.Tags,
                reports = reports.Select(r => new { kind = r.Kind, at = r.At, body = r.Body }),
            }, Indented));
        }));
        return command;
    }

    private static Command Alias()
    {
        var location = new RegistryLocation();
        var model = new Argument<string>("model");
        var alias = new Argument<string>("alias") { Description = "champion, challenger, or any name" };
        var version = new Argument<long?>("version") { Description = "The version it points at (omit with --remove)", Arity = ArgumentArity.ZeroOrOne };
        var remove = new Option<bool>("--remove") { Description = "Remove the alias" };
        var reason = new Option<string>("--reason") { Description = "Why, for the audit trail", DefaultValueFactory = _ => "moved by hand" };
        var command = new Command("alias", "Point an alias at a version (recorded in the audit trail with who and why)") { model, alias, version, remove, reason };
        command.Validators.Add(result =>
        {
            if (result.GetValue(remove) == result.GetValue(version) is not null)
            {
                result.AddError("give a version, or --remove");
            }
        });
        location.AddTo(command);
        command.SetAction((parse, token) => location.RunAsync(parse, async registry =>
        {
            var moved = await registry.MoveAliasAsync(parse.GetValue(model)!, parse.GetValue(alias)!, parse.GetValue(version), location.Actor(parse), parse.GetValue(reason)!, token);
            Console.WriteLine(moved is null ? $"removed {parse.GetValue(model)}@{parse.GetValue(alias)}" : $"{moved.Model}@{moved.Alias} -> version {moved.Version}");
        }));
        return command;
    }

    private static Command Tag()
    {
        var location = new RegistryLocation();
        var model = new Argument<string>("model");
        var version = new Argument<long>("version");
        var pair = new Argument<string>("tag") { Description = "key=value, or key= to remove it" };
        var command = new Command("tag", "Set or remove a version's tag") { model, version, pair };
        location.AddTo(command);
        command.SetAction((parse, token) => location.RunAsync(parse, async registry =>
        {
            var (key, value) = Pair(parse.GetValue(pair)!);
            await registry.Store.SetTagAsync(parse.GetValue(model)!, parse.GetValue(version), key, value.Length == 0 ? null : value, location.Actor(parse), token);
            Console.WriteLine(value.Length == 0 ? $"removed tag {key}" : $"tagged {key}={value}");
        }));
        return command;
    }

    private static Command Pull()
    {
        var location = new RegistryLocation();
        var model = new Argument<string>("model");
        var reference = new Argument<string>("version") { Description = "A version number or an alias" };
        var repository = new Option<DirectoryInfo>("--repository") { Description = "The model repository to write model/N into", Required = true };
        var trust = new Option<FileInfo[]>("--trust") { Description = "PEM public keys whose signatures are accepted; with any, unsigned or untrusted versions are refused", AllowMultipleArgumentsPerToken = true };
        var command = new Command("pull", "Materialize a version into a model repository: staged, digests and signature checked, renamed into place") { model, reference, repository, trust };
        location.AddTo(command);
        command.SetAction((parse, token) => location.RunAsync(parse, async registry =>
        {
            var version = await registry.ResolveAsync(parse.GetValue(model)!, parse.GetValue(reference)!, token);
            using var verifier = Verifier(parse.GetValue(trust));
            var folder = await registry.MaterializeAsync(version, parse.GetValue(repository)!.FullName, verifier, token);
            Console.WriteLine($"{version.Model} version {version.Version} -> {folder}");
        }));
        return command;
    }

    private static Command Verify()
    {
        var location = new RegistryLocation();
        var model = new Argument<string>("model");
        var reference = new Argument<string>("version") { Description = "A version number or an alias" };
        var trust = new Option<FileInfo[]>("--trust") { Description = "PEM public keys to check the signature against", AllowMultipleArgumentsPerToken = true };
        var command = new Command("verify", "Check a version's stored files against their digests and its signature against trusted keys") { model, reference, trust };
        location.AddTo(command);
        command.SetAction((parse, token) => location.RunAsync(parse, async registry =>
        {
            var version = await registry.ResolveAsync(parse.GetValue(model)!, parse.GetValue(reference)!, token);
            using var verifier = Verifier(parse.GetValue(trust));
            var scratch = Path.Combine(Path.GetTempPath(), $"turbine-verify-{Guid.NewGuid():N}");
            try
            {
                await registry.MaterializeAsync(version, scratch, verifier, token);
                Console.WriteLine($"{version.Model} version {version.Version}: {version.Manifest.Files.Count} files match their digests{(verifier is null ? string.Empty : $"; signature by {version.Signer} verified")}");
            }
            finally
            {
                if (Directory.Exists(scratch))
                {
                    Directory.Delete(scratch, recursive: true);
                }
            }
        }, failure: 3));
        return command;
    }

    private static Command History()
    {
        var location = new RegistryLocation();
        var model = new Argument<string>("model");
        var at = new Option<DateTimeOffset?>("--at") { Description = "Answer what each alias pointed at at this time (ISO 8601), and who had moved it" };
        var command = new Command("history", "A model's audit trail: registrations, alias moves, tags, reports, serving changes") { model, at };
        location.AddTo(command);
        command.SetAction((parse, token) => location.RunAsync(parse, async registry =>
        {
            var name = parse.GetValue(model)!;
            if (parse.GetValue(at) is { } moment)
            {
                var subjects = (await registry.Store.AuditAsync(name, moment, token)).Where(e => e.Alias is not null).Select(e => e.Alias!).Distinct();
                foreach (var subject in subjects)
                {
                    var state = await registry.StateAtAsync(name, subject, moment, token);
                    Console.WriteLine(state is null
                        ? $"{name}@{subject}: not set at {moment:O}"
                        : $"{name}@{subject}: version {state.Version} at {moment:O}, since {state.At:O}, moved by {state.Actor} ({state.Detail})");
                }

                return;
            }

            foreach (var entry in await registry.Store.AuditAsync(name, null, token))
            {
                var what = entry.Kind switch
                {
                    AuditKinds.AliasMoved => $"@{entry.Alias} {(entry.Previous is { } p ? $"{p} -> " : string.Empty)}{entry.Version}",
                    AuditKinds.AliasRemoved => $"@{entry.Alias} removed (was {entry.Previous})",
                    AuditKinds.Serving => $"{entry.Alias} serves {entry.Version}",
                    _ => $"version {entry.Version}",
                };
                Console.WriteLine($"{entry.At:yyyy-MM-dd HH:mm:ss.fff}  {entry.Kind,-18} {what,-24} {entry.Actor,-12} {entry.Detail}");
            }
        }));
        return command;
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private static readonly string[] ConfigFiles = ["config.json", "config.pbtxt"];

    private static Dictionary<string, string> Pairs(string[]? pairs) =>
        (pairs ?? []).Select(Pair).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    private static (string Key, string Value) Pair(string text)
    {
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        return equals > 0 ? (text[..equals], text[(equals + 1)..]) : throw new RegistryException($"'{ClientText.Quote(text)}' is not key=value");
    }

    private static SignatureVerifier? Verifier(FileInfo[]? trusted) =>
        trusted is { Length: > 0 } ? SignatureVerifier.FromPemFiles(trusted.Select(f => f.FullName)) : null;
}
