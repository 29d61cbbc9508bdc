using System.Globalization;
using System.Text;

namespace Turbine.Bench;

/// <summary>A horizontal bar chart of throughput, as a small standalone SVG for docs/BENCHMARKS.md.</summary>
internal static class BarChart
{
    public static string Render(string title, IReadOnlyList<LoadResult> results)
    {
        const int Left = 250, BarHeight = 26, Gap = 10, Width = 760, Top = 40;
        var max = results.Max(r => r.RequestsPerSecond);
        var height = Top + (results.Count * (BarHeight + Gap)) + 10;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"13\">");
        svg.Append(CultureInfo.InvariantCulture, $"<rect width=\"{Width}\" height=\"{height}\" fill=\"white\"/><text x=\"10\" y=\"24\" font-size=\"15\" font-weight=\"bold\">{Escape(title)}</text>");
        for (var i = 0; i < results.Count; i++)
        {
            var r = results[i];
            var y = Top + (i * (BarHeight + Gap));
            var length = (Width - Left - 90) * r.RequestsPerSecond / max;
            var color = r.Scenario.StartsWith("turbine", StringComparison.Ordinal) ? "#1f77b4" : "#9e9e9e";
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 8}\" y=\"{y + 18}\" text-anchor=\"end\">{Escape(r.Scenario)}</text>");
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Left}\" y=\"{y}\" width=\"{length:F1}\" height=\"{BarHeight}\" fill=\"{color}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left + length + 6:F1}\" y=\"{y + 18}\">{r.RequestsPerSecond:F0}/s, p99 {r.P99Ms:F1} ms</text>");
        }

        svg.Append("</svg>");
        return svg.ToString();
    }

    private static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal);
}
