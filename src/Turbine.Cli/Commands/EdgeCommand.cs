using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Turbine.Edge.Updates;
using Turbine.Edge.Updates.Tuf;

namespace Turbine.Cli.Commands;

/// <summary>
/// <c>turbine edge init|bundle|publish|timestamp</c>: the publishing side of edge updates (docs/EDGE.md, "Updates"). A
/// TUF repository is a folder any static HTTPS server can serve; the role keys stay in a key folder on the publishing
/// machine (root's offline, ideally), and a device is provisioned with the repository's <c>metadata/1.root.json</c>.
/// </summary>
internal static class EdgeCommand
{
    public static Command Create()
    {
        var command = new Command("edge", "Publish signed bundles for turbine-edge devices: a TUF repository, its keys, bundles, fresh timestamps");
        command.Subcommands.Add(Init());
        command.Subcommands.Add(MakeBundle());
        command.Subcommands.Add(Publish());
        command.Subcommands.Add(Timestamp());
        command.Subcommands.Add(Rotate());
        return command;
    }

    private static Command Init()
    {
        var repository = new Argument<DirectoryInfo>("repository") { Description = "The repository folder (metadata/ and targets/ go in it)" };
        var keys = KeysOption();
        var rootKeys = new Option<int>("--root-keys") { Description = "Root keys to generate (when the key folder has none)", DefaultValueFactory = _ => 1 };
        var rootThreshold = new Option<int>("--root-threshold") { Description = "Root signatures a client needs", DefaultValueFactory = _ => 1 };
        var command = new Command("init", "Create a repository: generate the missing role keys (ECDSA P-256) and sign root version 1") { repository, keys, rootKeys, rootThreshold };
        command.SetAction(parse =>
        {
            var keyFolder = parse.GetValue(keys)!.FullName;
            var threshold = parse.GetValue(rootThreshold);
            GenerateMissingKeys(keyFolder, parse.GetValue(rootKeys), RootMetadata.TopLevelRoles);
            var signers = LoadSigners(keyFolder, new Dictionary<string, int>(StringComparer.Ordinal) { ["root"] = threshold });
            if (threshold < 1 || threshold > signers["root"].Keys.Count)
            {
                return Usage($"--root-threshold must be between 1 and the {signers["root"].Keys.Count} root key(s)");
            }

            var publisher = new TufPublisher(parse.GetValue(repository)!.FullName, signers, TimeProvider.System);
            if (!publisher.Initialize())
            {
                return Usage($"{parse.GetValue(repository)!.FullName} is a repository already");
            }

            Console.WriteLine($"repository: {parse.GetValue(repository)!.FullName} (serve it over HTTPS: metadata/ and targets/)");
            Console.WriteLine($"provision devices with: {Path.Combine(publisher.MetadataFolder, "1.root.json")}");
            Console.WriteLine($"keys: {keyFolder} (keep root's offline; timestamp's signs daily)");
            return 0;
        });
        return command;
    }

    private static Command MakeBundle()
    {
        var models = new Option<DirectoryInfo>("--models") { Description = "The model repository the bundle carries", Required = true };
        var version = new Option<long>("--version") { Description = "The bundle's version (a device takes only higher ones)", Required = true };
        var golden = new Option<DirectoryInfo?>("--golden") { Description = "A folder of MODEL.jsonl golden cases the device's health check runs" };
        var server = new Option<FileInfo?>("--server") { Description = "A turbine-edge build to run instead of the device's own" };
        var output = new Option<FileInfo>("--output", "-o") { Description = "The bundle file (.tar.gz)", Required = true };
        var command = new Command("bundle", "Pack a model repository, golden cases and optionally a server build into a bundle") { models, version, golden, server, output };
        command.SetAction(parse =>
        {
            if (parse.GetValue(version) < 1 || !parse.GetValue(models)!.Exists)
            {
                return Usage("--version must be positive and --models must exist");
            }

            Bundle.Write(parse.GetValue(output)!.FullName, parse.GetValue(version), parse.GetValue(models)!.FullName, parse.GetValue(golden)?.FullName, parse.GetValue(server)?.FullName);
            Console.WriteLine($"bundle: {parse.GetValue(output)!.FullName} (version {parse.GetValue(version)}, {parse.GetValue(output)!.Length} bytes)");
            return 0;
        });
        return command;
    }

    private static Command Publish()
    {
        var repository = new Argument<DirectoryInfo>("repository") { Description = "The repository folder" };
        var keys = KeysOption();
        var bundle = new Option<FileInfo>("--bundle") { Description = "The bundle to publish", Required = true };
        var command = new Command("publish", "Sign a bundle into the repository (new targets, snapshot and timestamp versions)") { repository, keys, bundle };
        command.SetAction(parse =>
        {
            var file = parse.GetValue(bundle)!.FullName;
            var staging = Directory.CreateTempSubdirectory("turbine-bundle-check-").FullName;
            BundleManifest manifest;
            try
            {
                manifest = Bundle.Extract(file, Path.Combine(staging, "b"), new BundleLimits()); // what a device would refuse is refused here first
            }
            catch (InvalidDataException e)
            {
                return Usage($"{file} is not a usable bundle: {e.Message}");
            }
            finally
            {
                Bundle.MakeWritable(staging);
                Directory.Delete(staging, recursive: true);
            }

            var publisher = Open(parse.GetValue(repository)!.FullName, parse.GetValue(keys)!.FullName);
            var target = publisher.AddTarget($"bundles/edge-{manifest.Version}.tar.gz", file, JsonDocument.Parse(string.Create(CultureInfo.InvariantCulture, $$"""{"version": {{manifest.Version}}}""")).RootElement);
            Console.WriteLine($"published {target.Path} (version {manifest.Version}, sha256 {target.Sha256})");
            return 0;
        });
        return command;
    }

    private static Command Timestamp()
    {
        var repository = new Argument<DirectoryInfo>("repository") { Description = "The repository folder" };
        var keys = KeysOption();
        var command = new Command("timestamp", "Re-sign the timestamp (run it more often than it expires: devices refuse an expired one)") { repository, keys };
        command.SetAction(parse =>
        {
            Open(parse.GetValue(repository)!.FullName, parse.GetValue(keys)!.FullName).RefreshTimestamp();
            Console.WriteLine("timestamp re-signed");
            return 0;
        });
        return command;
    }

    private static Command Rotate()
    {
        var repository = new Argument<DirectoryInfo>("repository") { Description = "The repository folder" };
        var keys = KeysOption();
        var role = new Option<string>("--role") { Description = "The role whose keys are replaced: root, targets, snapshot or timestamp", Required = true };
        var count = new Option<int>("--keys-count") { Description = "New keys for the role", DefaultValueFactory = _ => 1 };
        var threshold = new Option<int?>("--threshold") { Description = "The role's new threshold (default: unchanged, at most the new keys)" };
        var command = new Command("rotate", "Replace a role's keys: sign the next root version with the old and new root keys, then re-sign what the role signs; the old keys move to retired/") { repository, keys, role, count, threshold };
        command.SetAction(parse =>
        {
            var name = parse.GetValue(role)!;
            if (!RootMetadata.TopLevelRoles.Contains(name) || parse.GetValue(count) < 1)
            {
                return Usage($"--role must be one of {string.Join(", ", RootMetadata.TopLevelRoles)} and --keys-count positive");
            }

            var folder = parse.GetValue(repository)!.FullName;
            var keyFolder = parse.GetValue(keys)!.FullName;
            var root = RootMetadata.Parse(File.ReadAllBytes(Path.Combine(folder, "metadata", "root.json")));
            var oldRootKeys = LoadSigners(keyFolder, new Dictionary<string, int>(StringComparer.Ordinal))["root"].Keys;
            var retired = Directory.CreateDirectory(Path.Combine(keyFolder, "retired")).FullName;
            foreach (var file in Directory.GetFiles(keyFolder, $"{name}-*.pem"))
            {
                File.Move(file, Path.Combine(retired, $"{Path.GetFileNameWithoutExtension(file)}-{root.Metadata.Version}.pem"), overwrite: true);
            }

            GenerateMissingKeys(keyFolder, parse.GetValue(count), [name]);
            var thresholds = RootMetadata.TopLevelRoles.ToDictionary(r => r, r => root.Roles[r].Threshold, StringComparer.Ordinal);
            thresholds[name] = Math.Min(parse.GetValue(threshold) ?? thresholds[name], parse.GetValue(count));
            var signers = LoadSigners(keyFolder, thresholds);
            var publisher = new TufPublisher(folder, signers, TimeProvider.System);
            publisher.WriteRoot(root.Metadata.Version + 1, [.. oldRootKeys, .. signers["root"].Keys]); // devices follow with the old root's trust
            publisher.Republish();
            Console.WriteLine($"rotated {name}: root version {publisher.RootVersion}, {parse.GetValue(count)} new key(s), threshold {thresholds[name]}; the old ones are in {retired}");
            return 0;
        });
        return command;
    }

    private static Option<DirectoryInfo> KeysOption() => new("--keys") { Description = "The folder of role keys (ROLE-N.pem)", Required = true };

    private static TufPublisher Open(string repository, string keyFolder)
    {
        var root = RootMetadata.Parse(File.ReadAllBytes(Path.Combine(repository, "metadata", "root.json")));
        var thresholds = RootMetadata.TopLevelRoles.ToDictionary(role => role, role => root.Roles[role].Threshold, StringComparer.Ordinal);
        return new TufPublisher(repository, LoadSigners(keyFolder, thresholds), TimeProvider.System);
    }

    /// <summary>Generates <paramref name="count"/> keys for root (one for the others) for each role that has none.</summary>
    private static void GenerateMissingKeys(string keyFolder, int count, string[] roles)
    {
        Directory.CreateDirectory(keyFolder);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(keyFolder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        foreach (var role in roles)
        {
            if (Directory.EnumerateFiles(keyFolder, $"{role}-*.pem").Any())
            {
                continue;
            }

            for (var i = 1; i <= (role == "root" || roles.Length == 1 ? Math.Max(1, count) : 1); i++)
            {
                using var key = TufSigningKey.Generate();
                var path = Path.Combine(keyFolder, $"{role}-{i}.pem");
                File.WriteAllText(path, key.ToPem());
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                }
            }
        }
    }

    private static Dictionary<string, RoleSigners> LoadSigners(string keyFolder, IReadOnlyDictionary<string, int> thresholds) =>
        RootMetadata.TopLevelRoles.ToDictionary(
            role => role,
            role => new RoleSigners(
                [.. Directory.EnumerateFiles(keyFolder, $"{role}-*.pem").Order(StringComparer.Ordinal).Select(file => TufSigningKey.FromPem(File.ReadAllText(file)))],
                thresholds.GetValueOrDefault(role, 1)),
            StringComparer.Ordinal);

    private static int Usage(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return 1;
    }
}
