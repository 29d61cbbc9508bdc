using System.Globalization;
using System.Text.Json.Nodes;

namespace Turbine.Cli.Optimization;

/// <summary>
/// Writes a kept candidate as the next version of a model folder, ready to serve: the model file, the report beside
/// it, and (into a different model folder) the source's config with its name changed. The version folder is staged
/// under a dot-name and renamed into place, so a repository being polled never sees it half written.
/// </summary>
internal static class OptimizedVersion
{
    private static readonly System.Text.Json.JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <returns>The new version folder.</returns>
    public static string Write(string sourceModelFolder, string targetModelFolder, string modelFile, string candidatePath, string reportFolder)
    {
        Directory.CreateDirectory(targetModelFolder);
        var version = Versions(targetModelFolder).DefaultIfEmpty(0).Max() + 1;
        var staging = Path.Combine(targetModelFolder, $".optimize-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        File.Copy(candidatePath, Path.Combine(staging, modelFile));
        foreach (var report in new[] { OptimizationReportWriter.JsonFile, OptimizationReportWriter.MarkdownFile, OptimizationReportWriter.ChartFile })
        {
            File.Copy(Path.Combine(reportFolder, report), Path.Combine(staging, report));
        }

        var target = Path.Combine(targetModelFolder, version.ToString(CultureInfo.InvariantCulture));
        Directory.Move(staging, target);
        if (!SameFolder(sourceModelFolder, targetModelFolder))
        {
            CopyConfig(sourceModelFolder, targetModelFolder);
        }

        return target;
    }

    /// <summary>The numbered version folders of a model folder.</summary>
    public static IEnumerable<long> Versions(string modelFolder) => Directory.Exists(modelFolder)
        ? Directory.EnumerateDirectories(modelFolder)
            .Select(folder => long.TryParse(Path.GetFileName(folder), NumberStyles.None, CultureInfo.InvariantCulture, out var version) ? version : 0)
            .Where(version => version > 0)
        : [];

    private static void CopyConfig(string source, string target)
    {
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(target)));
        var json = Path.Combine(source, "config.json");
        var text = Path.Combine(source, "config.pbtxt");
        if (File.Exists(json) && !File.Exists(Path.Combine(target, "config.json")))
        {
            var config = JsonNode.Parse(File.ReadAllText(json), documentOptions: new System.Text.Json.JsonDocumentOptions { MaxDepth = 64 })!.AsObject();
            if (config.ContainsKey("name"))
            {
                config["name"] = name;
            }

            File.WriteAllText(Path.Combine(target, "config.json"), config.ToJsonString(Indented));
        }
        else if (File.Exists(text) && !File.Exists(Path.Combine(target, "config.pbtxt")))
        {
            var lines = File.ReadAllLines(text).Select(line => line.TrimStart().StartsWith("name:", StringComparison.Ordinal) && !line.StartsWith(' ') ? $"name: \"{name}\"" : line);
            File.WriteAllLines(Path.Combine(target, "config.pbtxt"), lines);
        }
    }

    private static bool SameFolder(string a, string b) =>
        string.Equals(Path.TrimEndingDirectorySeparator(Path.GetFullPath(a)), Path.TrimEndingDirectorySeparator(Path.GetFullPath(b)), StringComparison.Ordinal);
}
