using System.Globalization;
using System.Text;
using Turbine.Onnx.Tools.Optimization;

namespace Turbine.Cli.Optimization;

/// <summary>
/// The optimization report as a chart: one group of bars per batch size, one bar per candidate with its speed-up
/// over the original (the dashed line at 1x), kept candidates in colour and rejected ones in grey, and each
/// candidate's size and accuracy drop in the legend.
/// </summary>
internal static class SpeedupChart
{
    private const int Width = 760, Height = 440, Left = 60, Right = 20, Top = 44, Bottom = 56, LegendRow = 16;
    private static readonly string[] Colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

    public static string Render(OptimizationReport report)
    {
        var measured = report.Candidates.Where(c => c.Speedups.Count > 0).ToList();
        var legendHeight = LegendRow * measured.Count;
        var plotBottom = Height - Bottom - legendHeight;
        var maxY = Math.Max(1.5, Math.Ceiling(measured.SelectMany(c => c.Speedups).DefaultIfEmpty(1).Max() * 2) / 2);
        double Y(double value) => plotBottom - ((plotBottom - Top) * value / maxY);
        var svg = new StringBuilder();
        Append(svg, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" font-family=\"sans-serif\" font-size=\"12\">");
        Append(svg, $"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>");
        Append(svg, $"<text x=\"{Left}\" y=\"24\" font-size=\"15\" font-weight=\"bold\">{Escape(report.Model)}: rows/s against the original, per batch size ({report.Cores} cores)</text>");
        for (var tick = 0.0; tick <= maxY + 1e-9; tick += 0.5)
        {
            Append(svg, $"<line x1=\"{Left}\" y1=\"{Y(tick):F1}\" x2=\"{Width - Right}\" y2=\"{Y(tick):F1}\" stroke=\"#e8e8e8\"/><text x=\"{Left - 6}\" y=\"{Y(tick) + 4:F1}\" text-anchor=\"end\">{tick:0.0}x</text>");
        }

        Append(svg, $"<line x1=\"{Left}\" y1=\"{Y(1):F1}\" x2=\"{Width - Right}\" y2=\"{Y(1):F1}\" stroke=\"black\" stroke-dasharray=\"5,4\"/>");
        var groupWidth = (Width - Left - Right) / (double)Math.Max(1, report.BatchSizes.Count);
        var barWidth = groupWidth * 0.8 / Math.Max(1, measured.Count);
        for (var b = 0; b < report.BatchSizes.Count; b++)
        {
            var groupLeft = Left + (groupWidth * b) + (groupWidth * 0.1);
            for (var c = 0; c < measured.Count; c++)
            {
                var speedup = measured[c].Speedups[b];
                var fill = measured[c].Accepted ? Colours[c % Colours.Length] : "#b0b0b0";
                Append(svg, $"<rect x=\"{groupLeft + (barWidth * c):F1}\" y=\"{Y(speedup):F1}\" width=\"{barWidth * 0.9:F1}\" height=\"{Y(0) - Y(speedup):F1}\" fill=\"{fill}\" stroke=\"{Colours[c % Colours.Length]}\"><title>{Escape(measured[c].Name)}: {speedup:F2}x at batch {report.BatchSizes[b]}</title></rect>");
                Append(svg, $"<text x=\"{groupLeft + (barWidth * (c + 0.45)):F1}\" y=\"{Y(speedup) - 4:F1}\" text-anchor=\"middle\" font-size=\"10\">{speedup:F2}</text>");
            }

            Append(svg, $"<text x=\"{Left + (groupWidth * (b + 0.5)):F1}\" y=\"{plotBottom + 18}\" text-anchor=\"middle\">batch {report.BatchSizes[b]}</text>");
        }

        for (var c = 0; c < measured.Count; c++)
        {
            var candidate = measured[c];
            var y = plotBottom + 40 + (LegendRow * c);
            var verdict = candidate.Accepted ? candidate.Name == report.Chosen ? "kept" : "accepted" : "rejected";
            Append(svg, $"<rect x=\"{Left}\" y=\"{y - 10}\" width=\"12\" height=\"12\" fill=\"{(candidate.Accepted ? Colours[c % Colours.Length] : "#b0b0b0")}\" stroke=\"{Colours[c % Colours.Length]}\"/>");
            Append(svg, $"<text x=\"{Left + 18}\" y=\"{y}\">{Escape(candidate.Name)}: {verdict}; size {(double)candidate.Bytes / report.OriginalBytes:F2}x the original's; accuracy drop {candidate.AccuracyDrop:P2}</text>");
        }

        svg.Append("</svg>");
        return svg.ToString();
    }

    private static void Append(StringBuilder svg, FormattableString text) => svg.Append(text.ToString(CultureInfo.InvariantCulture)).Append('\n');

    private static string Escape(string text) => System.Security.SecurityElement.Escape(text) ?? string.Empty;
}
