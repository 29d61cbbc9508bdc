using System.Globalization;
using System.Text;
using Turbine.Autoscaling;
using Turbine.Cli.Bench;

namespace Turbine.Cli.Autoscale;

/// <summary>Replicas over time under each policy, beside the replicas the load needed (its rate over a replica's capacity), as a standalone SVG.</summary>
internal static class AutoscaleChart
{
    private const int Width = 860, Height = 440, Left = 60, Right = 250, Top = 40, Bottom = 50;
    private static readonly string[] Colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

    public static string Render(string title, ArrivalTrace trace, ServiceModel service, IReadOnlyList<SimulationResult> results)
    {
        var needed = Needed(trace, service);
        var maxX = LatencyThroughputChart.Nice(trace.Duration);
        var maxY = LatencyThroughputChart.Nice(Math.Max(results.Max(r => r.Timeline.Select(p => p.Replicas).DefaultIfEmpty(1).Max()), needed.Select(n => n.Replicas).DefaultIfEmpty(1).Max()));
        var svg = new StringBuilder();
        Append(svg, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" font-family=\"sans-serif\" font-size=\"12\">");
        Append(svg, $"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/><text x=\"{Left}\" y=\"24\" font-size=\"15\" font-weight=\"bold\">{Escape(title)}</text>");
        const int PlotBottom = Height - Bottom;
        Append(svg, $"<line x1=\"{Left}\" y1=\"{PlotBottom}\" x2=\"{Width - Right}\" y2=\"{PlotBottom}\" stroke=\"black\"/><line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{PlotBottom}\" stroke=\"black\"/>");
        for (var i = 0; i <= 4; i++)
        {
            Append(svg, $"<text x=\"{X(maxX * i / 4, maxX):F1}\" y=\"{PlotBottom + 16}\" text-anchor=\"middle\">{maxX * i / 4:G4}</text>");
            Append(svg, $"<text x=\"{Left - 6}\" y=\"{Y(maxY * i / 4, maxY) + 4:F1}\" text-anchor=\"end\">{maxY * i / 4:G4}</text>");
            Append(svg, $"<line x1=\"{Left}\" y1=\"{Y(maxY * i / 4, maxY):F1}\" x2=\"{Width - Right}\" y2=\"{Y(maxY * i / 4, maxY):F1}\" stroke=\"#e0e0e0\"/>");
        }

        Append(svg, $"<text x=\"{(Left + Width - Right) / 2}\" y=\"{Height - 12}\" text-anchor=\"middle\">time (s)</text>");
        Append(svg, $"<text x=\"16\" y=\"{(Top + PlotBottom) / 2}\" transform=\"rotate(-90 16 {(Top + PlotBottom) / 2})\" text-anchor=\"middle\">replicas</text>");
        Line(svg, needed, maxX, maxY, "#999999", "load / capacity per replica", 0, dashed: true);
        for (var k = 0; k < results.Count; k++)
        {
            Line(svg, results[k].Timeline, maxX, maxY, Colors[k % Colors.Length], results[k].Policy, k + 1, dashed: false);
        }

        svg.Append("</svg>");
        return svg.ToString();
    }

    /// <summary>The replicas the load needed each minute: its arrival rate over one replica's capacity.</summary>
    private static List<(double Time, int Replicas)> Needed(ArrivalTrace trace, ServiceModel service)
    {
        var buckets = new int[(int)Math.Ceiling(trace.Duration / 60) + 1];
        foreach (var arrival in trace.Arrivals)
        {
            buckets[(int)(arrival / 60)]++;
        }

        return [.. buckets.Select((count, minute) => ((double)minute * 60, (int)Math.Ceiling(count / 60.0 / service.Capacity)))];
    }

    private static void Line(StringBuilder svg, IReadOnlyList<(double Time, int Replicas)> points, double maxX, double maxY, string color, string name, int legend, bool dashed)
    {
        var path = new StringBuilder();
        var previous = (double?)null;
        foreach (var (time, replicas) in points)
        {
            var y = Y(replicas, maxY);
            if (previous is { } before)
            {
                path.Append(CultureInfo.InvariantCulture, $"{X(time, maxX):F1},{before:F1} "); // steps, as replicas change at decisions
            }

            path.Append(CultureInfo.InvariantCulture, $"{X(time, maxX):F1},{y:F1} ");
            previous = y;
        }

        Append(svg, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"{(dashed ? " stroke-dasharray=\"5,4\"" : string.Empty)} points=\"{path.ToString().TrimEnd()}\"/>");
        var legendY = Top + 4 + (legend * 18);
        Append(svg, $"<rect x=\"{Width - Right + 12}\" y=\"{legendY - 6}\" width=\"14\" height=\"3\" fill=\"{color}\"/><text x=\"{Width - Right + 32}\" y=\"{legendY}\">{Escape(name)}</text>");
    }

    private static double X(double value, double max) => Left + ((Width - Left - Right) * value / max);

    private static double Y(double value, double max) => Height - Bottom - ((Height - Top - Bottom) * value / max);

    private static void Append(StringBuilder svg, FormattableString text) => svg.Append(text.ToString(CultureInfo.InvariantCulture));

    private static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal);
}
