using System.Globalization;
using System.Text;

namespace Turbine.Server.Metrics;

/// <summary>
/// Writes the Prometheus text exposition format (version 0.0.4): one HELP and TYPE header per family, then its
/// samples. Label values are escaped; names are the caller's constants.
/// </summary>
internal sealed class PrometheusTextWriter
{
    private readonly StringBuilder _text = new();

    public void Family(string name, string type, string help) =>
        _text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
             .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    public void Sample(string name, ReadOnlySpan<(string Name, string Value)> labels, double value)
    {
        _text.Append(name);
        if (labels.Length > 0)
        {
            _text.Append('{');
            for (var i = 0; i < labels.Length; i++)
            {
                _text.Append(i == 0 ? "" : ",").Append(labels[i].Name).Append("=\"");
                Escape(labels[i].Value);
                _text.Append('"');
            }

            _text.Append('}');
        }

        _text.Append(' ').Append(Format(value)).Append('\n');
    }

    /// <summary>
    /// One histogram series: cumulative buckets, then sum and count. <paramref name="bucketCounts"/> are per bucket
    /// (not cumulative) and one longer than <paramref name="bounds"/>; the count is their total, so the +Inf bucket
    /// and the count always agree even while requests are being recorded.
    /// </summary>
    public void Histogram(string name, ReadOnlySpan<(string Name, string Value)> labels, ReadOnlySpan<double> bounds, ReadOnlySpan<long> bucketCounts, double sum)
    {
        Span<(string, string)> withBound = new (string, string)[labels.Length + 1];
        labels.CopyTo(withBound);
        long cumulative = 0;
        for (var i = 0; i <= bounds.Length; i++)
        {
            cumulative += bucketCounts[i];
            withBound[^1] = ("le", i < bounds.Length ? Format(bounds[i]) : "+Inf");
            Sample(name + "_bucket", withBound, cumulative);
        }

        Sample(name + "_sum", labels, sum);
        Sample(name + "_count", labels, cumulative);
    }

    public override string ToString() => _text.ToString();

    private static string Format(double value) => value.ToString("G17", CultureInfo.InvariantCulture) switch
    {
        "∞" or "Infinity" => "+Inf",
        var text => text,
    };

    private void Escape(string value)
    {
        foreach (var c in value)
        {
            _ = c switch
            {
                '\\' => _text.Append("\\\\"),
                '"' => _text.Append("\\\""),
                '\n' => _text.Append("\\n"),
                _ => _text.Append(c),
            };
        }
    }
}
