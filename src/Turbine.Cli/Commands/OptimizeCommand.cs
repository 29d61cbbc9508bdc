using System.CommandLine;
using System.Globalization;
using Turbine.Cli.Bench;
using Turbine.Cli.Optimization;
using Turbine.Onnx;
using Turbine.Onnx.Tools.Evaluation;
using Turbine.Onnx.Tools.Optimization;

namespace Turbine.Cli.Commands;

/// <summary>
/// <c>turbine optimize MODEL_DIR --data FILE</c>: makes candidates from the chosen passes (or searches the default
/// ones), measures each against the original side by side, keeps the best one that meets the goal within the
/// accuracy bound as the model's next version, and writes the report (JSON, Markdown, SVG). Exit code 0 when a
/// candidate was kept, 3 when none met the goal, 1 for a usage error, 2 when the model or data cannot be used.
/// </summary>
internal static class OptimizeCommand
{
    public const int NothingKept = 3;

    public static Command Create()
    {
        var folder = new Argument<DirectoryInfo>("model-dir") { Description = "The model's folder (config and numbered versions), as in a repository" };
        var data = new Option<FileInfo?>("--data") { Description = "JSONL of KServe v2 requests (or validate's golden lines): accuracy rows and calibration (needed unless --tune)" };
        var calibrationData = new Option<FileInfo?>("--calibration-data") { Description = "Rows the static int8 pass calibrates on, held out from --data (default: the --data rows)" };
        var passes = new Option<string?>("--passes") { Description = $"Comma-separated candidates, each a pass or passes joined by '+' ({string.Join(", ", CandidatePasses.Names)}), a pass's setting after a colon (qdq:entropy, int4:128, prune:0.25, graph:all); default: search {string.Join(", ", CandidatePasses.SearchedByDefault)}" };
        var goal = new Option<OptimizationGoal>("--goal") { Description = "latency: faster at every batch size; size: smaller and not much slower", DefaultValueFactory = _ => OptimizationGoal.Latency };
        var maxDrop = new Option<double>("--max-accuracy-drop") { Description = "The largest accuracy drop a kept candidate may show (0.01 = 1%)", DefaultValueFactory = _ => 0.01 };
        var metric = new Option<string>("--metric") { Description = "auto (top1 for models with integer outputs, else relative-l2), relative-l2, top1 or cosine", DefaultValueFactory = _ => "auto" };
        var batches = new Option<string>("--batch") { Description = "Batch sizes to time", DefaultValueFactory = _ => "1,8,32" };
        var version = new Option<long?>("--version") { Description = "The version to optimize (default: the latest)" };
        var output = new Option<DirectoryInfo?>("--output") { Description = "The model folder the kept version goes to (default: the model's own, as its next version)" };
        var reportDir = new Option<DirectoryInfo?>("--report-dir") { Description = "Where the report goes (default: ./optimize-<model>-<time>)" };
        var modelFile = new Option<string>("--model-file") { Description = "The model file's name in a version folder", DefaultValueFactory = _ => "model.onnx" };
        var rounds = new Option<int>("--rounds") { Description = "Timing rounds per batch size", DefaultValueFactory = _ => 5 };
        var roundMs = new Option<int>("--round-ms") { Description = "Milliseconds each model runs per round", DefaultValueFactory = _ => 1000 };
        var calibration = new Option<CalibrationMethod>("--calibration") { Description = "The static int8 pass's calibration: MinMax, Percentile or Entropy", DefaultValueFactory = _ => CalibrationMethod.MinMax };
        var int4Block = new Option<int>("--int4-block") { Description = "The int4 pass's block size", DefaultValueFactory = _ => 32 };
        var int4Accuracy = new Option<int>("--int4-accuracy-level") { Description = "The int4 pass's accuracy level, 0-4 (MatMulNBits' accuracy_level: the precision its activations are computed in)", DefaultValueFactory = _ => 0 };
        var pruneKeep = new Option<double>("--prune-keep") { Description = "The share of hidden units the prune pass keeps", DefaultValueFactory = _ => 0.5 };
        var minSpeedup = new Option<double>("--min-speedup") { Description = "Latency goal: the least speed-up at every batch size", DefaultValueFactory = _ => 1.05 };
        var target = new Option<string?>("--target") { Description = "edge: pick passes for a device's budgets (--max-size-mb, --max-latency-ms at --edge-threads); the most accurate candidate within them is kept" };
        var maxSizeMb = new Option<double?>("--max-size-mb") { Description = "--target edge: the largest model file the device takes" };
        var maxLatencyMs = new Option<double?>("--max-latency-ms") { Description = "--target edge: the largest median latency at the smallest batch size" };
        var edgeThreads = new Option<int>("--edge-threads") { Description = "--target edge: the compute threads the device gives the model (timing uses as many)", DefaultValueFactory = _ => 1 };
        var tune = new Option<bool>("--tune") { Description = "Search serving configurations (instances, threads, max batch, delay) against a real server instead" };
        var maxP99 = new Option<double>("--max-p99-ms") { Description = "--tune: the p99 latency limit", DefaultValueFactory = _ => 100 };
        var concurrency = new Option<int>("--concurrency") { Description = "--tune: concurrent clients of every trial", DefaultValueFactory = _ => 16 };
        var windowSeconds = new Option<double>("--window-s") { Description = "--tune: seconds per measured window (three per trial)", DefaultValueFactory = _ => 2 };
        var command = new Command("optimize", "Make faster or smaller candidates of a model, measure them against it, and keep the best that meets the goal; or, with --tune, search its serving configuration")
        {
            folder, data, calibrationData, passes, goal, maxDrop, metric, batches, version, output, reportDir, modelFile, rounds, roundMs, calibration, int4Block, int4Accuracy, pruneKeep, minSpeedup,
            target, maxSizeMb, maxLatencyMs, edgeThreads, tune, maxP99, concurrency, windowSeconds,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var modelFolder = parse.GetValue(folder)!.FullName;
            var source = parse.GetValue(version) ?? OptimizedVersion.Versions(modelFolder).DefaultIfEmpty(0).Max();
            var modelPath = Path.Combine(modelFolder, source.ToString(CultureInfo.InvariantCulture), parse.GetValue(modelFile)!);
            if (!File.Exists(modelPath))
            {
                return Usage($"{modelPath} does not exist (give the model's folder, which holds numbered versions)");
            }

            var modelName = Path.GetFileName(Path.TrimEndingDirectorySeparator(modelFolder));
            var reports = parse.GetValue(reportDir)?.FullName ?? Path.GetFullPath($"{(parse.GetValue(tune) ? "tune" : "optimize")}-{modelName}-{TimeProvider.System.GetUtcNow():yyyyMMdd-HHmmss}");
            if (parse.GetValue(tune))
            {
                var tuner = new ConfigurationTuner(
                    modelFolder, source, parse.GetValue(modelFile)!, parse.GetValue(maxP99), Math.Max(1, parse.GetValue(concurrency)),
                    TimeSpan.FromSeconds(Math.Max(0.2, parse.GetValue(windowSeconds))), ProgressLine.ForConsole(), TimeProvider.System);
                var tuned = await tuner.RunAsync(cancellationToken);
                TuneReportWriter.Write(tuned, tuner.Apply(tuned.Recommended.Config), reports, modelFolder);
                Console.WriteLine($"recommended: trial {tuned.Recommended.Number}: {tuned.Recommended.Config}: {tuned.Recommended.Throughput:F0} req/s, p99 {tuned.Recommended.P99Ms:F2} ms{(tuned.Recommended.MeetsLimit ? string.Empty : " (no trial met the limit)")}");
                Console.WriteLine($"config: {Path.Combine(modelFolder, TuneReportWriter.ConfigFile)}");
                Console.WriteLine($"report: {Path.Combine(reports, "tune-report.md")}");
                return tuned.Recommended.MeetsLimit ? 0 : NothingKept;
            }

            if (parse.GetValue(data) is not { } dataFile)
            {
                return Usage("--data is needed to measure candidates (or give --tune)");
            }

            if (parse.GetValue(target) is { } named && named != "edge")
            {
                return Usage($"unknown --target '{named}' (edge)");
            }

            var edge = parse.GetValue(target) is not null;
            if (edge && parse.GetValue(maxSizeMb) is null && parse.GetValue(maxLatencyMs) is null)
            {
                return Usage("--target edge needs a budget: --max-size-mb, --max-latency-ms or both");
            }

            if (edge)
            {
                // Time the candidates with the device's threads: a budget met on this machine's every core means little on two.
                OnnxThreadBudget.Configure(Math.Max(1, parse.GetValue(edgeThreads)));
            }

            if (!TryParseSizes(edge && parse.GetResult(batches) is null ? "1" : parse.GetValue(batches)!, out var sizes))
            {
                return Usage("--batch takes comma-separated positive integers, e.g. 1,8,32");
            }

            var candidates = parse.GetValue(passes) is { } chosen ? chosen.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                : edge ? CandidatePasses.SearchedForEdge
                : CandidatePasses.SearchedByDefault;
            if (candidates.SelectMany(c => c.Split('+')).FirstOrDefault(pass => !CandidatePasses.Names.Contains(CandidatePasses.NameOf(pass))) is { } unknown)
            {
                return Usage($"unknown pass '{unknown}' (passes: {string.Join(", ", CandidatePasses.Names)})");
            }

            ModelSignature signature;
            SampleSet samples;
            SampleSet? heldOut;
            try
            {
                signature = new OnnxBackend().Inspect(modelPath);
                samples = SampleSet.FromJsonLines(dataFile.FullName, signature);
                heldOut = parse.GetValue(calibrationData) is { } file ? SampleSet.FromJsonLines(file.FullName, signature) : null;
            }
            catch (Exception e) when (e is InferenceException or IOException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }

            if (!TryMetric(parse.GetValue(metric)!, signature, out var accuracyMetric))
            {
                return Usage("--metric takes auto, relative-l2, top1 or cosine");
            }

            var options = new OptimizeOptions(
                candidates, edge ? OptimizationGoal.Edge : parse.GetValue(goal), accuracyMetric, parse.GetValue(maxDrop), sizes, TimeSpan.FromMilliseconds(Math.Max(50, parse.GetValue(roundMs))), Math.Max(1, parse.GetValue(rounds)),
                MinSpeedup: parse.GetValue(minSpeedup),
                Passes: new PassSettings(Int4BlockSize: parse.GetValue(int4Block), Int4AccuracyLevel: parse.GetValue(int4Accuracy), PruneKeep: parse.GetValue(pruneKeep), Calibration: parse.GetValue(calibration)),
                MaxBytes: parse.GetValue(maxSizeMb) is { } megabytes ? (long)(megabytes * 1024 * 1024) : null,
                MaxLatencyMs: parse.GetValue(maxLatencyMs));
            var work = Path.Combine(Path.GetTempPath(), $"turbine-optimize-{Guid.NewGuid():N}");
            try
            {
                Console.Error.WriteLine($"optimizing {modelName} version {source}: {candidates.Count} candidate(s), {samples.Rows} sample rows, batch sizes {string.Join(",", sizes)}");
                var bar = new ProgressBar(ProgressLine.ForConsole());
                OptimizationReport report;
                try
                {
                    report = new ModelOptimizer(options, TimeProvider.System).Run(modelPath, samples, work, bar, heldOut) with { Model = $"{modelName} version {source}" };
                }
                catch (InferenceException e)
                {
                    Console.Error.WriteLine($"error: {e.Message}");
                    return 2;
                }

                bar.Done();
                OptimizationReportWriter.Write(report, reports);
                Print(report);
                Console.WriteLine($"report: {Path.Combine(reports, OptimizationReportWriter.MarkdownFile)}");
                if (report.Chosen is null)
                {
                    return NothingKept;
                }

                var kept = report.Candidates.Single(c => c.Name == report.Chosen);
                var target = parse.GetValue(output)?.FullName ?? modelFolder;
                var written = OptimizedVersion.Write(modelFolder, target, parse.GetValue(modelFile)!, kept.Path!, reports);
                Console.WriteLine($"kept {kept.Name} as {written}");
                return 0;
            }
            finally
            {
                if (Directory.Exists(work))
                {
                    Directory.Delete(work, recursive: true);
                }
            }
        });
        return command;
    }

    private static void Print(OptimizationReport report)
    {
        Console.WriteLine($"{"candidate",-16} {"verdict",-9} {"size",8}  {string.Join("  ", report.BatchSizes.Select(b => $"{"b" + b,7}"))}  {"drop",8}");
        foreach (var candidate in report.Candidates)
        {
            var verdict = candidate.Accepted ? candidate.Name == report.Chosen ? "KEPT" : "accepted" : "rejected";
            var size = candidate.Bytes > 0 ? $"{(double)candidate.Bytes / report.OriginalBytes:F2}x" : "-";
            Console.WriteLine($"{candidate.Name,-16} {verdict,-9} {size,8}  {string.Join("  ", candidate.Speedups.Select(s => $"{s,6:F2}x"))}  {candidate.AccuracyDrop,8:P2}");
            foreach (var reason in candidate.Reasons)
            {
                Console.WriteLine($"    {reason}");
            }
        }
    }

    private static bool TryParseSizes(string text, out int[] sizes)
    {
        sizes = [.. text.Split(',').Select(size => int.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : 0)];
        return sizes.Length > 0 && sizes.All(size => size > 0);
    }

    private static bool TryMetric(string text, ModelSignature signature, out AccuracyMetric metric)
    {
        metric = text switch
        {
            "relative-l2" => AccuracyMetric.RelativeL2,
            "top1" => AccuracyMetric.Top1,
            "cosine" => AccuracyMetric.Cosine,
            "auto" => AccuracyMetrics.For(signature),
            _ => (AccuracyMetric)(-1),
        };
        return Enum.IsDefined(metric);
    }

    private static int Usage(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return 1;
    }

    /// <summary>The optimizer's progress as a bar on stderr.</summary>
    private sealed class ProgressBar(ProgressLine line) : IProgress<(string Step, double Done)>
    {
        private const int Width = 30;

        public void Report((string Step, double Done) value)
        {
            var filled = (int)Math.Round(Math.Clamp(value.Done, 0, 1) * Width);
            line.Update($"[{new string('#', filled)}{new string('.', Width - filled)}] {value.Done,4:P0} {value.Step}");
        }

        public void Done() => line.Done($"[{new string('#', Width)}] 100% measured");
    }
}
