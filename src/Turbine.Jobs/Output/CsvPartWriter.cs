using System.Buffers;
using System.Text.Json;
using CsvHelper;
using Turbine.Jobs.Mapping;

namespace Turbine.Jobs.Output;

/// <summary>
/// RFC 4180 CSV (CsvHelper): a header of the key columns and outputs, then a record per row. An output of one element
/// is a number; a bigger one is a JSON array, nested by its shape, in one quoted field. Text that a spreadsheet would
/// run as a formula is escaped.
/// </summary>
internal sealed class CsvPartWriter : PartWriter
{
    private readonly Stream _stream;
    private readonly CsvWriter _writer;
    private readonly int _keyCount;
    private readonly IReadOnlyList<string> _outputs;
    private readonly ArrayBufferWriter<byte> _json = new();

    public CsvPartWriter(Stream stream, IReadOnlyList<string> keys, IReadOnlyList<string> outputs)
    {
        _stream = stream;
        _keyCount = keys.Count;
        _outputs = outputs;
        _writer = CsvWriter.Create(stream, CsvWriterOptions.Default with { NewLine = "\n", Injection = CsvInjection.Escape }, leaveOpen: true);
        _writer.WriteHeader([.. KeyNames(keys), .. outputs]);
    }

    public override ValueTask WriteAsync(ScoredRow row, CancellationToken cancellationToken)
    {
        foreach (var value in KeyValues(row, _keyCount))
        {
            WriteCell(value);
        }

        foreach (var name in _outputs)
        {
            var output = Find(row.Outputs!, name);
            if (output is null)
            {
                _writer.WriteField(string.Empty);
            }
            else if (output.Values.Length == 1)
            {
                WriteElement(output.Values);
            }
            else
            {
                _json.Clear();
                using (var json = new Utf8JsonWriter(_json, OutputJson.Lines))
                {
                    OutputJson.WriteOutput(json, output);
                }

                _writer.WriteField(_json.WrittenSpan);
            }
        }

        return _writer.EndRecordAsync(cancellationToken);
    }

    public override async ValueTask CompleteAsync(CancellationToken cancellationToken)
    {
        await _writer.FlushAsync(cancellationToken);
        await FlushToDiskAsync(_stream, cancellationToken);
    }

    public override async ValueTask DisposeAsync()
    {
        await _writer.DisposeAsync();
        await _stream.DisposeAsync();
    }

    private void WriteCell(object? value)
    {
        switch (value)
        {
            case null: _writer.WriteField(string.Empty); break;
            case string s: _writer.WriteField(s); break;
            case long l: _writer.WriteField(l, default); break;
            case double d: _writer.WriteField(d, default); break;
            case bool b: _writer.WriteField(b); break;
            default:
                _json.Clear();
                using (var json = new Utf8JsonWriter(_json, OutputJson.Lines))
                {
                    OutputJson.WriteCell(json, value);
                }

                _writer.WriteField(_json.WrittenSpan);
                break;
        }
    }

    private void WriteElement(Array values)
    {
        switch (values)
        {
            case float[] f: _writer.WriteField(f[0], default); break;
            case double[] d: _writer.WriteField(d[0], default); break;
            case long[] l: _writer.WriteField(l[0], default); break;
            case ulong[] u: _writer.WriteField(u[0], default); break;
            case bool[] b: _writer.WriteField(b[0]); break;
            case string[] s: _writer.WriteField(s[0]); break;
            default: _writer.WriteField(Convert.ToString(values.GetValue(0), System.Globalization.CultureInfo.InvariantCulture)); break;
        }
    }

    private static RowOutput? Find(IReadOnlyList<RowOutput> outputs, string name)
    {
        foreach (var output in outputs)
        {
            if (output.Name == name)
            {
                return output;
            }
        }

        return null;
    }
}
