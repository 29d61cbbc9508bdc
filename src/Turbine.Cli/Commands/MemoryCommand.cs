using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Turbine.Cli.Bench;
using Turbine.Cli.Optimization;
using Turbine.Onnx.Tools.Evaluation;

namespace Turbine.Cli.Commands;

/// <summary>
/// <c>turbine memory MODEL_DIR</c>: the peak working memory of one session per batch size under each arena setting
/// (<c>enable_cpu_mem_arena</c>, <c>enable_mem_pattern</c>), each measured in a fresh child process, and the setting
/// that lowers the peak most at the largest batch, as the config lines to paste.
/// </summary>
internal static class MemoryCommand
{
    private static readonly (bool Arena, bool Pattern)[] Settings = [(true, true), (true, false), (false, true), (false, false)];
    private static readonly JsonSerializerOptions SnakeCase = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    public static Command Create()
    {
        var folder = new Argument<DirectoryInfo>("model-dir") { Description = "The model's folder (config and numbered versions), or a version folder" };
        var batches = new Option<string>("--batch") { Description = "Batch sizes to measure", DefaultValueFactory = _ => "1,8,32" };
        var version = new Option<long?>("--version") { Description = "The version to measure (default: the latest)" };
        var modelFile = new Option<string>("--model-file") { Description = "The model file's name in a version folder", DefaultValueFactory = _ => "model.onnx" };
        var json = new Option<bool>("--json") { Description = "Print the measurements as JSON" };
        var probe = new Option<string?>("--probe") { Description = "(internal) measure one setting in this process: BATCH,ARENA,PATTERN", Hidden = true };
        var command = new Command("memory", "Peak session memory per batch size under each ONNX Runtime arena setting") { folder, batches, version, modelFile, json, probe };
        command.SetAction(parse =>
        {
            var directory = parse.GetValue(folder)!.FullName;
            var file = parse.GetValue(modelFile)!;
            var modelPath = File.Exists(Path.Combine(directory, file))
                ? Path.Combine(directory, file)
                : Path.Combine(directory, (parse.GetValue(version) ?? OptimizedVersion.Versions(directory).DefaultIfEmpty(0).Max()).ToString(CultureInfo.InvariantCulture), file);
            if (!File.Exists(modelPath))
            {
                Console.Error.WriteLine($"error: {modelPath} does not exist");
                return 1;
            }

            if (!SessionMemoryProbe.IsSupported)
            {
                Console.Error.WriteLine("error: session memory is measured from Linux's /proc figures; this system has none");
                return 2;
            }

            if (parse.GetValue(probe) is { } one)
            {
                var parts = one.Split(',');
                var measured = SessionMemoryProbe.Measure(modelPath, int.Parse(parts[0], CultureInfo.InvariantCulture), parts[1] == "1", parts[2] == "1");
                Console.WriteLine(JsonSerializer.Serialize(measured, SnakeCase));
                return 0;
            }

            var sizes = parse.GetValue(batches)!.Split(',').Select(b => int.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out var size) ? size : 0).ToArray();
            if (sizes.Any(size => size <= 0))
            {
                Console.Error.WriteLine("error: --batch takes comma-separated positive integers");
                return 1;
            }

            var results = new List<SessionMemory>();
            var progress = ProgressLine.ForConsole();
            foreach (var size in sizes)
            {
                foreach (var (arena, pattern) in Settings)
                {
                    progress.Update($"batch {size}: arena {(arena ? "on" : "off")}, memory pattern {(pattern ? "on" : "off")} ({results.Count + 1}/{sizes.Length * Settings.Length})");
                    if (Probe(modelPath, file, size, arena, pattern) is not { } measured)
                    {
                        return 2;
                    }

                    results.Add(measured);
                }
            }

            progress.Done($"measured {results.Count} sessions");
            Console.WriteLine(parse.GetValue(json) ? JsonSerializer.Serialize(results, SnakeCase) : Markdown(Path.GetFileName(directory), new FileInfo(modelPath).Length, results));
            return 0;
        });
        return command;
    }

    /// <summary>The Markdown report: a row per batch size, a column per setting, and the recommendation.</summary>
    public static string Markdown(string model, long fileBytes, IReadOnlyList<SessionMemory> results)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Peak working memory of one `{model}` session ({fileBytes / 1e6:F1} MB file), each in a fresh process: resident memory at its highest while loading and running three batches, above the process before the session (retained after the runs in brackets), MB.");
        text.AppendLine();
        text.AppendLine($"| batch | {string.Join(" | ", Settings.Select(s => Name(s.Arena, s.Pattern)))} |");
        text.AppendLine($"|---:|{string.Concat(Settings.Select(_ => "---:|"))}");
        foreach (var batch in results.GroupBy(r => r.BatchSize))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {batch.Key} | {string.Join(" | ", Settings.Select(s => batch.Single(r => r.CpuMemArena == s.Arena && r.MemPattern == s.Pattern)).Select(r => $"{r.PeakBytes / 1e6:F1} ({r.RetainedBytes / 1e6:F1})"))} |");
        }

        var largest = results.Where(r => r.BatchSize == results.Max(m => m.BatchSize)).ToList();
        var baseline = largest.Single(r => r.CpuMemArena && r.MemPattern);
        var best = largest.MinBy(r => r.PeakBytes)!;
        text.AppendLine();
        text.AppendLine(best == baseline || best.PeakBytes > baseline.PeakBytes * 0.95
            ? "The defaults (arena and memory pattern on) are within 5% of the lowest peak at the largest batch: keep them."
            : string.Create(CultureInfo.InvariantCulture, $"At batch {best.BatchSize}, {Name(best.CpuMemArena, best.MemPattern)} lowers the peak from {baseline.PeakBytes / 1e6:F1} MB to {best.PeakBytes / 1e6:F1} MB ({1 - ((double)best.PeakBytes / baseline.PeakBytes):P0} less): set `\"onnxruntime\": {{ \"enable_cpu_mem_arena\": {(best.CpuMemArena ? "true" : "false")}, \"enable_mem_pattern\": {(best.MemPattern ? "true" : "false")} }}` in the model's config (an arena off costs a little speed: measure with turbine bench)."));
        return text.ToString();
    }

    private static string Name(bool arena, bool pattern) => $"arena {(arena ? "on" : "off")}, pattern {(pattern ? "on" : "off")}";

    private static SessionMemory? Probe(string modelPath, string file, int batch, bool arena, bool pattern)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            start.ArgumentList.Add(typeof(MemoryCommand).Assembly.Location); // run through the host, as this process was
        }

        foreach (var argument in new[] { "memory", Path.GetDirectoryName(modelPath)!, "--model-file", file, "--probe", $"{batch},{(arena ? 1 : 0)},{(pattern ? 1 : 0)}" })
        {
            start.ArgumentList.Add(argument);
        }

        using var child = Process.Start(start)!;
        var output = child.StandardOutput.ReadToEnd();
        var errors = child.StandardError.ReadToEnd();
        child.WaitForExit();
        if (child.ExitCode != 0)
        {
            Console.Error.WriteLine($"error: measuring batch {batch} failed: {errors.Trim()}");
            return null;
        }

        return JsonSerializer.Deserialize<SessionMemory>(output, SnakeCase);
    }
}
