using System.Globalization;
using System.Text;

namespace Turbine.Cli.Bench;

/// <summary>
/// The classic serving chart as a standalone SVG: throughput across, latency up, one point per load level, with
/// p50 and p99 lines, so the knee (where more load only adds latency) is visible at a glance.
/// </summary>
internal static class LatencyThroughputChart
{
    private const int Width = 720, Height = 420, Left = 70, Right = 20, Top = 40, Bottom = 50;

    public static string Render(string title, IReadOnlyList<StepResult> steps)
    {
        var maxX = Nice(steps.Max(s => s.Client.Throughput));
        var maxY = Nice(steps.Where(s => double.IsFinite(s.Client.P99Ms)).Select(s => s.Client.P99Ms).DefaultIfEmpty(1).Max());
        var svg = new StringBuilder();
        Append(svg, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" font-family=\"sans-serif\" font-size=\"12\">");
        Append(svg, $"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/><text x=\"{Left}\" y=\"24\" font-size=\"15\" font-weight=\"bold\">{Escape(title)}</text>");
        Axes(svg, maxX, maxY);
        Series(svg, steps, s => s.Client.P50Ms, maxX, maxY, "#1f77b4", "p50");
        Series(svg, steps, s => s.Client.P99Ms, maxX, maxY, "#d62728", "p99");
        svg.Append("</svg>");
        return svg.ToString();
    }

    private static void Axes(StringBuilder svg, double maxX, double maxY)
    {
        const int PlotBottom = Height - Bottom;
        Append(svg, $"<line x1=\"{Left}\" y1=\"{PlotBottom}\" x2=\"{Width - Right}\" y2=\"{PlotBottom}\" stroke=\"black\"/>");
        Append(svg, $"<line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{PlotBottom}\" stroke=\"black\"/>");
        for (var i = 0; i <= 4; i++)
        {
            var x = X(maxX * i / 4, maxX);
            var y = Y(maxY * i / 4, maxY);
            Append(svg, $"<text x=\"{x:F1}\" y=\"{PlotBottom + 16}\" text-anchor=\"middle\">{maxX * i / 4:G4}</text>");
            Append(svg, $"<text x=\"{Left - 6}\" y=\"{y + 4:F1}\" text-anchor=\"end\">{maxY * i / 4:G4}</text>");
            Append(svg, $"<line x1=\"{Left}\" y1=\"{y:F1}\" x2=\"{Width - Right}\" y2=\"{y:F1}\" stroke=\"#e0e0e0\"/>");
        }

        Append(svg, $"<text x=\"{(Left + Width - Right) / 2}\" y=\"{Height - 12}\" text-anchor=\"middle\">throughput (requests/s)</text>");
        Append(svg, $"<text x=\"16\" y=\"{(Top + PlotBottom) / 2}\" transform=\"rotate(-90 16 {(Top + PlotBottom) / 2})\" text-anchor=\"middle\">latency (ms)</text>");
    }

    private static void Series(StringBuilder svg, IReadOnlyList<StepResult> steps, Func<StepResult, double> latency, double maxX, double maxY, string color, string name)
    {
        var points = steps.Where(s => double.IsFinite(latency(s))).OrderBy(s => s.Client.Throughput)
            .Select(s => (X: X(s.Client.Throughput, maxX), Y: Y(latency(s), maxY), Label: s.Load)).ToList();
        Append(svg, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{string.Join(' ', points.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.X:F1},{p.Y:F1}")))}\"/>");
        foreach (var (x, y, label) in points)
        {
            Append(svg, $"<circle cx=\"{x:F1}\" cy=\"{y:F1}\" r=\"3.5\" fill=\"{color}\"><title>{name} at load {label:G}</title></circle>");
        }

        var legendY = name == "p50" ? Top + 4 : Top + 20;
        Append(svg, $"<rect x=\"{Width - Right - 60}\" y=\"{legendY - 9}\" width=\"12\" height=\"3\" fill=\"{color}\"/><text x=\"{Width - Right - 42}\" y=\"{legendY - 4}\">{name}</text>");
    }

    private static double X(double value, double max) => Left + ((Width - Left - Right) * value / max);

    private static double Y(double value, double max) => Height - Bottom - ((Height - Top - Bottom) * value / max);

    /// <summary>A round axis maximum at or above <paramref name="value"/>: 1, 2 or 5 times a power of ten.</summary>
    /// <summary>The round number (1, 2 or 5 times a power of ten) an axis ends at.</summary>
    internal static double Nice(double value)
    {
        if (!(value > 0))
        {
            return 1;
        }

        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(value)));
        return new[] { 1.0, 2, 5, 10 }.Select(f => f * magnitude).First(candidate => candidate >= value);
    }

    private static void Append(StringBuilder svg, FormattableString text) => svg.Append(text.ToString(CultureInfo.InvariantCulture));

    private static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal);
}
