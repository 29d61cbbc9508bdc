using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Turbine.Cli.Bench;

namespace Turbine.Cli.Optimization;

/// <summary>
/// Writes what <c>--tune</c> found: the trials and the Pareto front as Markdown and JSON, the throughput/p99 chart
/// (every trial a point, the front joined, the limit dashed), and the recommended configuration.
/// </summary>
internal static class TuneReportWriter
{
    public const string ConfigFile = "config.tuned.json";
    private const int Width = 720, Height = 440, Left = 70, Right = 20, Top = 44, Bottom = 50;
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static void Write(TuneReport report, JsonObject recommended, string reportFolder, string modelFolder)
    {
        Directory.CreateDirectory(reportFolder);
        File.WriteAllText(Path.Combine(reportFolder, "tune-report.json"), JsonSerializer.Serialize(report, Json));
        File.WriteAllText(Path.Combine(reportFolder, "tune-report.md"), Markdown(report, recommended));
        File.WriteAllText(Path.Combine(reportFolder, "tune-report.svg"), Chart(report));
        File.WriteAllText(Path.Combine(modelFolder, ConfigFile), recommended.ToJsonString(Json));
    }

    public static string Markdown(TuneReport report, JsonObject recommended)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"# Configuration search for `{report.Model}`");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Measured {report.MeasuredAt:yyyy-MM-dd HH:mm} UTC on {report.Cores} cores: each trial served by a real Turbine on 127.0.0.1 and loaded by `turbine bench`'s closed loop at {report.Concurrency} concurrent clients (binary REST). p99 limit: {report.MaxP99Ms:G} ms.");
        text.AppendLine();
        text.AppendLine("| trial | instances | intra-op threads | max batch | delay µs | req/s | p99 ms | within limit | Pareto |");
        text.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---|---|");
        foreach (var trial in report.Trials)
        {
            var c = trial.Config;
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {trial.Number}{(trial == report.Recommended ? " **(recommended)**" : string.Empty)} | {c.Instances} | {(c.IntraOpThreads == 0 ? "shared" : c.IntraOpThreads)} | {c.MaxBatchSize} | {c.DelayMicroseconds} | {trial.Throughput:F0} | {trial.P99Ms:F2} | {(trial.MeetsLimit ? "yes" : "no")} | {(report.Pareto.Contains(trial) ? "yes" : string.Empty)} |");
        }

        text.AppendLine();
        text.AppendLine(report.Recommended.MeetsLimit
            ? string.Create(CultureInfo.InvariantCulture, $"Recommended: trial {report.Recommended.Number} ({report.Recommended.Config}), {report.Recommended.Throughput:F0} req/s at p99 {report.Recommended.P99Ms:F2} ms. Written as `{ConfigFile}` beside the model's config; rename it to `config.json` to serve with it.")
            : string.Create(CultureInfo.InvariantCulture, $"No trial met the p99 limit; the lowest p99 was trial {report.Recommended.Number} ({report.Recommended.P99Ms:F2} ms), written as `{ConfigFile}`."));
        text.AppendLine();
        text.AppendLine("```json");
        text.AppendLine(recommended.ToJsonString(Json));
        text.AppendLine("```");
        text.AppendLine();
        text.AppendLine("![throughput against p99, Pareto front joined](tune-report.svg)");
        return text.ToString();
    }

    public static string Chart(TuneReport report)
    {
        var maxX = LatencyThroughputChart.Nice(report.Trials.Max(t => t.Throughput));
        var maxY = LatencyThroughputChart.Nice(Math.Max(report.MaxP99Ms, report.Trials.Where(t => double.IsFinite(t.P99Ms)).Select(t => t.P99Ms).DefaultIfEmpty(1).Max()));
        double X(double v) => Left + ((Width - Left - Right) * v / maxX);
        double Y(double v) => Height - Bottom - ((Height - Bottom - Top) * v / maxY);
        var svg = new StringBuilder();
        void Add(FormattableString line) => svg.Append(line.ToString(CultureInfo.InvariantCulture)).Append('\n');
        Add($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" font-family=\"sans-serif\" font-size=\"12\"><rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>");
        Add($"<text x=\"{Left}\" y=\"24\" font-size=\"15\" font-weight=\"bold\">{System.Security.SecurityElement.Escape(report.Model)}: throughput against p99 per configuration ({report.Concurrency} clients)</text>");
        for (var i = 0; i <= 4; i++)
        {
            Add($"<line x1=\"{Left}\" y1=\"{Y(maxY * i / 4):F1}\" x2=\"{Width - Right}\" y2=\"{Y(maxY * i / 4):F1}\" stroke=\"#e8e8e8\"/><text x=\"{Left - 6}\" y=\"{Y(maxY * i / 4) + 4:F1}\" text-anchor=\"end\">{maxY * i / 4:G4}</text>");
            Add($"<text x=\"{X(maxX * i / 4):F1}\" y=\"{Height - Bottom + 16}\" text-anchor=\"middle\">{maxX * i / 4:G4}</text>");
        }

        Add($"<text x=\"{(Left + Width - Right) / 2}\" y=\"{Height - 12}\" text-anchor=\"middle\">throughput (requests/s)</text>");
        Add($"<text x=\"16\" y=\"{(Top + Height - Bottom) / 2}\" transform=\"rotate(-90 16 {(Top + Height - Bottom) / 2})\" text-anchor=\"middle\">p99 (ms)</text>");
        Add($"<line x1=\"{Left}\" y1=\"{Y(report.MaxP99Ms):F1}\" x2=\"{Width - Right}\" y2=\"{Y(report.MaxP99Ms):F1}\" stroke=\"#d62728\" stroke-dasharray=\"6,4\"/><text x=\"{Width - Right}\" y=\"{Y(report.MaxP99Ms) - 4:F1}\" text-anchor=\"end\" fill=\"#d62728\">p99 limit</text>");
        Add($"<polyline fill=\"none\" stroke=\"#2ca02c\" stroke-width=\"2\" points=\"{string.Join(' ', report.Pareto.Select(t => string.Create(CultureInfo.InvariantCulture, $"{X(t.Throughput):F1},{Y(Math.Min(t.P99Ms, maxY)):F1}")))}\"/>");
        foreach (var trial in report.Trials)
        {
            var colour = trial == report.Recommended ? "#2ca02c" : trial.MeetsLimit ? "#1f77b4" : "#999999";
            Add($"<circle cx=\"{X(trial.Throughput):F1}\" cy=\"{Y(Math.Min(trial.P99Ms, maxY)):F1}\" r=\"{(trial == report.Recommended ? 6 : 4)}\" fill=\"{colour}\"><title>trial {trial.Number}: {System.Security.SecurityElement.Escape(trial.Config.ToString())}</title></circle>");
            Add($"<text x=\"{X(trial.Throughput) + 6:F1}\" y=\"{Y(Math.Min(trial.P99Ms, maxY)) - 6:F1}\" font-size=\"10\">{trial.Number}</text>");
        }

        svg.Append("</svg>");
        return svg.ToString();
    }
}
