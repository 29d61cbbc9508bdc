using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Turbine.Cli.Bench;

/// <summary>The results of a run as a console table, CSV and JSON.</summary>
internal static class BenchReport
{
    private static readonly string[] Columns =
        ["protocol", "mode", "load", "throughput_rps", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "requests", "errors", "error_p99_ms", "windows", "stable", "server_queue_us", "server_compute_us", "rows_per_execution"];

    public static void WriteTable(TextWriter output, IReadOnlyList<StepResult> steps)
    {
        output.WriteLine($"{"load",-18} {"req/s",10} {"p50 ms",8} {"p90 ms",8} {"p95 ms",8} {"p99 ms",8} {"errors",7} {"err p99",8}  {"server queue",12} {"compute",9} {"rows/exec",9}");
        foreach (var step in steps)
        {
            var c = step.Client;
            var load = step.Mode == "rate" ? $"{step.Load:G}/s" : $"{step.Load:G} clients";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{load,-18} {c.Throughput,10:F0} {c.P50Ms,8:F2} {c.P90Ms,8:F2} {c.P95Ms,8:F2} {c.P99Ms,8:F2} {c.Errors,7} {(double.IsFinite(c.ErrorP99Ms) ? c.ErrorP99Ms.ToString("F2", CultureInfo.InvariantCulture) : "-"),8}  {Micro(step.ServerQueueUs),12} {Micro(step.ServerComputeUs),9} {step.RowsPerExecution,9:F1}"));
        }
    }

    public static string ToCsv(IReadOnlyList<StepResult> steps)
    {
        var csv = new StringBuilder().AppendJoin(',', Columns).Append('\n');
        foreach (var step in steps)
        {
            var c = step.Client;
            csv.AppendJoin(',', [step.Protocol, step.Mode, Number(step.Load), Number(c.Throughput), Number(c.P50Ms), Number(c.P90Ms), Number(c.P95Ms), Number(c.P99Ms),
                Number(c.Requests), Number(c.Errors), Number(c.ErrorP99Ms), Number(step.Windows), step.Stable ? "true" : "false", Number(step.ServerQueueUs), Number(step.ServerComputeUs), Number(step.RowsPerExecution)]).Append('\n');
        }

        return csv.ToString();
    }

    public static string ToJson(IReadOnlyList<StepResult> steps)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartArray();
            foreach (var step in steps)
            {
                var c = step.Client;
                json.WriteStartObject();
                json.WriteString(Columns[0], step.Protocol);
                json.WriteString(Columns[1], step.Mode);
                WriteNumbers(json, [(Columns[2], step.Load), (Columns[3], c.Throughput), (Columns[4], c.P50Ms), (Columns[5], c.P90Ms), (Columns[6], c.P95Ms), (Columns[7], c.P99Ms),
                    (Columns[8], c.Requests), (Columns[9], c.Errors), (Columns[10], c.ErrorP99Ms), (Columns[11], step.Windows)]);
                json.WriteBoolean(Columns[12], step.Stable);
                WriteNumbers(json, [(Columns[13], step.ServerQueueUs), (Columns[14], step.ServerComputeUs), (Columns[15], step.RowsPerExecution)]);
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Unknown figures (a server without statistics) are JSON null, not NaN, which JSON cannot hold.</summary>
    private static void WriteNumbers(Utf8JsonWriter json, ReadOnlySpan<(string Name, double Value)> numbers)
    {
        foreach (var (name, value) in numbers)
        {
            if (double.IsFinite(value))
            {
                json.WriteNumber(name, Math.Round(value, 3));
            }
            else
            {
                json.WriteNull(name);
            }
        }
    }

    private static string Number(double value) => double.IsFinite(value) ? Math.Round(value, 3).ToString(CultureInfo.InvariantCulture) : "";

    private static string Micro(double microseconds) => double.IsFinite(microseconds) ? string.Create(CultureInfo.InvariantCulture, $"{microseconds:F0} us") : "-";
}
