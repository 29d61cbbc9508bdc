using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Turbine.Onnx.Scanning;

namespace Turbine.Cli.Commands;

/// <summary>
/// <c>turbine scan PATH</c>: the security scan the server runs before it creates a session, on a model file, a
/// version folder or every version of a model folder, with the same policy settings as the server's
/// <c>ModelScan</c> section. Exit code 0 when nothing blocks, 2 when a finding blocks, 1 for a usage error.
/// </summary>
internal static class ScanCommand
{
    public const int Blocked = 2;

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Create()
    {
        var path = new Argument<string>("path") { Description = "A model file, a version folder, or a model folder (every numbered version)" };
        var modelFile = new Option<string>("--model-file") { Description = "The model file's name in a version folder", DefaultValueFactory = _ => "model.onnx" };
        var allowDomains = new Option<string[]>("--allow-domain") { Description = "A further operator domain to allow (repeatable)", AllowMultipleArgumentsPerToken = true };
        var warnOnly = new Option<string[]>("--warn-only") { Description = $"Finding kinds that only warn (repeatable): {string.Join(", ", ScanFindingKinds.All.Skip(2))}", AllowMultipleArgumentsPerToken = true };
        var defaults = new ModelScanPolicy();
        var maxInitializer = new Option<long>("--max-initializer-bytes") { Description = "The largest initializer, in declared bytes", DefaultValueFactory = _ => defaults.MaxInitializerBytes };
        var maxTotal = new Option<long>("--max-total-bytes") { Description = "All tensors together, in declared bytes", DefaultValueFactory = _ => defaults.MaxTotalBytes };
        var maxNodes = new Option<int>("--max-nodes") { Description = "Nodes, subgraphs and functions included", DefaultValueFactory = _ => defaults.MaxNodes };
        var maxDepth = new Option<int>("--max-graph-depth") { Description = "The longest chain of nodes", DefaultValueFactory = _ => defaults.MaxGraphDepth };
        var maxNesting = new Option<int>("--max-subgraph-depth") { Description = "How deep If/Loop/Scan subgraphs may nest", DefaultValueFactory = _ => defaults.MaxSubgraphDepth };
        var json = new Option<bool>("--json") { Description = "Print the reports as JSON instead of text" };
        var command = new Command("scan", "Scan model files and version folders for what must not load: escaping external data, custom operators, size bombs, pickles, executables")
        {
            path, modelFile, allowDomains, warnOnly, maxInitializer, maxTotal, maxNodes, maxDepth, maxNesting, json,
        };
        command.SetAction(parse =>
        {
            var policy = new ModelScanPolicy
            {
                AllowedDomains = [.. parse.GetValue(allowDomains) ?? []],
                WarnOnly = [.. parse.GetValue(warnOnly) ?? []],
                MaxInitializerBytes = parse.GetValue(maxInitializer),
                MaxTotalBytes = parse.GetValue(maxTotal),
                MaxNodes = parse.GetValue(maxNodes),
                MaxGraphDepth = parse.GetValue(maxDepth),
                MaxSubgraphDepth = parse.GetValue(maxNesting),
            };
            var errors = new List<string>();
            policy.Validate(errors);
            var targets = Targets(parse.GetValue(path)!, parse.GetValue(modelFile)!, errors);
            if (errors.Count > 0)
            {
                errors.ForEach(error => Console.Error.WriteLine($"error: {error}"));
                return 1;
            }

            var reports = targets.Select(target => (Target: target, Report: OnnxModelScanner.Scan(target, policy))).ToList();
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(
                    reports.Select(r => new { model = r.Target, blocked = r.Report.Blocked, findings = r.Report.Findings.Select(f => new { kind = f.Kind, verdict = f.Verdict.ToString().ToLowerInvariant(), subject = f.Subject, message = f.Message }) }),
                    Indented));
            }
            else
            {
                reports.ForEach(r => Print(r.Target, r.Report));
            }

            return reports.Any(r => r.Report.Blocked) ? Blocked : 0;
        });
        return command;
    }

    /// <summary>The model files a path names: itself, the model file of a version folder, or those of every version.</summary>
    private static List<string> Targets(string path, string modelFile, List<string> errors)
    {
        if (File.Exists(path))
        {
            return [Path.GetFullPath(path)];
        }

        if (!Directory.Exists(path))
        {
            errors.Add($"{path} is neither a model file nor a folder");
            return [];
        }

        if (File.Exists(Path.Combine(path, modelFile)))
        {
            return [Path.GetFullPath(Path.Combine(path, modelFile))];
        }

        var versions = Directory.EnumerateDirectories(path)
            .Where(folder => long.TryParse(Path.GetFileName(folder), NumberStyles.None, CultureInfo.InvariantCulture, out _))
            .OrderBy(folder => long.Parse(Path.GetFileName(folder), CultureInfo.InvariantCulture))
            .Select(folder => Path.GetFullPath(Path.Combine(folder, modelFile)))
            .ToList();
        if (versions.Count == 0)
        {
            errors.Add($"{path} holds no {modelFile} and no numbered version folders");
        }

        errors.AddRange(versions.Where(file => !File.Exists(file)).Select(file => $"version folder {Path.GetDirectoryName(file)} holds no {modelFile}"));

        return versions;
    }

    private static void Print(string target, ModelScanReport report)
    {
        var verdict = report.Blocked ? "BLOCKED" : report.Findings.Count > 0 ? "PASS with warnings" : "PASS";
        Console.WriteLine($"{target}: {verdict}");
        foreach (var finding in report.Findings)
        {
            Console.WriteLine($"  {finding.Verdict.ToString().ToLowerInvariant(),-5}  {finding.Kind,-18}  {finding.Subject}: {finding.Message}");
        }
    }
}
