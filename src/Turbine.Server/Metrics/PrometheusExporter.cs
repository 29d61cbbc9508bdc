using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Turbine.Server.Metrics;

/// <summary>Collects the <c>Turbine</c> meter's instruments on demand and renders them in the Prometheus text format.</summary>
internal sealed class PrometheusExporter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Lock _gate = new();
    private readonly List<(Instrument Instrument, long Value, KeyValuePair<string, object?>[] Tags)> _samples = [];

    public PrometheusExporter(TurbineMetrics metrics)
    {
        _ = metrics; // the instruments must exist before the listener subscribes
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == TurbineMetrics.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => _samples.Add((instrument, value, tags.ToArray())));
        _listener.Start();
    }

    public string Scrape()
    {
        lock (_gate)
        {
            _samples.Clear();
            _listener.RecordObservableInstruments();
            var text = new StringBuilder();
            foreach (var group in _samples.GroupBy(s => s.Instrument))
            {
                var name = group.Key.Name + "_total";
                text.Append("# HELP ").Append(name).Append(' ').Append(group.Key.Description).Append('\n');
                text.Append("# TYPE ").Append(name).Append(" counter\n");
                foreach (var (_, value, tags) in group)
                {
                    text.Append(name).Append('{');
                    for (var i = 0; i < tags.Length; i++)
                    {
                        text.Append(i == 0 ? string.Empty : ",").Append(tags[i].Key).Append("=\"").Append(Escape(tags[i].Value?.ToString())).Append('"');
                    }

                    text.Append("} ").Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
                }
            }

            return text.ToString();
        }
    }

    public void Dispose() => _listener.Dispose();

    private static string Escape(string? value) =>
        (value ?? string.Empty).Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
