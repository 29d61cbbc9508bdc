using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Turbine.Onnx.Tools.Evaluation;
using Turbine.Onnx.Tools.Optimization;

namespace Turbine.Cli.Optimization;

/// <summary>Writes an optimization report as JSON (for tools), Markdown (for people and pull requests) and an SVG chart.</summary>
internal static class OptimizationReportWriter
{
    public const string JsonFile = "optimization-report.json";
    public const string MarkdownFile = "optimization-report.md";
    public const string ChartFile = "optimization-report.svg";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>Writes the three files into <paramref name="folder"/>.</summary>
    public static void Write(OptimizationReport report, string folder)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, JsonFile), JsonSerializer.Serialize(report with { Candidates = [.. report.Candidates.Select(c => c with { Path = c.Path is null ? null : Path.GetFileName(c.Path) })] }, Json));
        File.WriteAllText(Path.Combine(folder, MarkdownFile), Markdown(report));
        File.WriteAllText(Path.Combine(folder, ChartFile), SpeedupChart.Render(report));
    }

    public static string Markdown(OptimizationReport report)
    {
        var text = new StringBuilder();
        Line(text, $"# Optimization of `{report.Model}`");
        Line(text, $"");
        Line(text, $"Measured {report.MeasuredAt:yyyy-MM-dd HH:mm} UTC on {report.Cores} cores, every model in the same process, rounds alternated. Goal: {report.Goal.ToString().ToLowerInvariant()}; accuracy as {Metric(report.Metric)} against the original on {report.AccuracyRows} rows, at most {report.MaxAccuracyDrop:P2} drop.");
        Line(text, $"");
        Line(text, $"**{(report.Chosen is null ? "No candidate met the goal; the original stays." : $"Kept: {report.Chosen}.")}**");
        Line(text, $"");
        text.Append("| candidate | verdict | size | ");
        text.AppendJoin(" | ", report.BatchSizes.Select(b => $"batch {b}: rows/s (speed-up)"));
        text.AppendLine(" | max abs diff | mean abs diff | relative L2 | top-1 agreement | cosine |");
        text.Append("|---|---|---:|").Append(string.Concat(report.BatchSizes.Select(_ => "---:|"))).AppendLine("---:|---:|---:|---:|---:|");
        text.Append(CultureInfo.InvariantCulture, $"| original | - | {report.OriginalBytes:N0} | ");
        text.AppendJoin(" | ", report.OriginalTimings.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.RowsPerSecond:F0} (p50 {t.MedianMs:F2} ms)")));
        text.AppendLine(" | - | - | - | - | - |");
        foreach (var candidate in report.Candidates)
        {
            var verdict = candidate.Accepted ? candidate.Name == report.Chosen ? "**kept**" : "accepted" : "rejected";
            text.Append(CultureInfo.InvariantCulture, $"| {candidate.Name} | {verdict} | ");
            if (candidate.Accuracy is not { } accuracy)
            {
                text.Append('-').Append(string.Concat(report.BatchSizes.Select(_ => " | -"))).AppendLine(" | - | - | - | - | - |");
                continue;
            }

            text.Append(CultureInfo.InvariantCulture, $"{candidate.Bytes:N0} ({(double)candidate.Bytes / report.OriginalBytes:F2}x the original's) | ");
            text.AppendJoin(" | ", candidate.Timings.Select((t, b) => string.Create(CultureInfo.InvariantCulture, $"{t.RowsPerSecond:F0} ({candidate.Speedups[b]:F2}x)")));
            text.AppendLine(CultureInfo.InvariantCulture, $" | {accuracy.MaxAbsolute:G3} | {accuracy.MeanAbsolute:G3} | {accuracy.RelativeL2:P2} | {Share(accuracy.Top1Agreement)} | {(accuracy.Cosine is { } cosine ? cosine.ToString("F4", CultureInfo.InvariantCulture) : "-")} |");
        }

        Line(text, $"");
        Line(text, $"## What each candidate did, and why it was rejected");
        Line(text, $"");
        foreach (var candidate in report.Candidates)
        {
            Line(text, $"- **{candidate.Name}**: {string.Join("; then ", candidate.PassFigures)}{(candidate.Reasons.Count == 0 ? "." : $". Rejected: {string.Join("; ", candidate.Reasons)}.")}");
        }

        Line(text, $"");
        Line(text, $"![speed-up per batch size]({ChartFile})");
        return text.ToString();
    }

    private static string Metric(AccuracyMetric metric) => metric switch
    {
        AccuracyMetric.Top1 => "top-1 disagreement",
        AccuracyMetric.Cosine => "1 - cosine similarity",
        _ => "relative L2 error",
    };

    private static string Share(double? value) => value is { } share ? share.ToString("P1", CultureInfo.InvariantCulture) : "-";

    private static void Line(StringBuilder text, FormattableString line) => text.AppendLine(line.ToString(CultureInfo.InvariantCulture));
}
