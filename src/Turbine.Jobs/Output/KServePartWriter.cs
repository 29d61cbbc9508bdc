using System.Text.Json;
using Turbine.Jobs.Mapping;

namespace Turbine.Jobs.Output;

/// <summary>One KServe v2 inference response per request line: its id, the model, and each output with datatype, shape and flat data.</summary>
internal sealed class KServePartWriter(Stream stream, string model) : PartWriter
{
    private readonly Utf8JsonWriter _writer = new(stream, OutputJson.Lines);

    public override async ValueTask WriteAsync(ScoredRow row, CancellationToken cancellationToken)
    {
        _writer.WriteStartObject();
        if (row.Keys.Length > 0 && row.Keys[0] is string id)
        {
            _writer.WriteString("id", id);
        }

        _writer.WriteString("model_name", model);
        _writer.WriteStartArray("outputs");
        foreach (var output in row.Outputs!)
        {
            _writer.WriteStartObject();
            _writer.WriteString("name", output.Name);
            _writer.WriteString("datatype", output.DataType.ToWireName());
            _writer.WriteStartArray("shape");
            foreach (var dim in output.Shape)
            {
                _writer.WriteNumberValue(dim);
            }

            _writer.WriteEndArray();
            _writer.WritePropertyName("data");
            OutputJson.WriteFlat(_writer, output.Values);
            _writer.WriteEndObject();
        }

        _writer.WriteEndArray();
        _writer.WriteEndObject();
        await _writer.FlushAsync(cancellationToken);
        stream.WriteByte((byte)'\n');
        _writer.Reset();
    }

    public override async ValueTask CompleteAsync(CancellationToken cancellationToken)
    {
        await _writer.FlushAsync(cancellationToken);
        await FlushToDiskAsync(stream, cancellationToken);
    }

    public override async ValueTask DisposeAsync()
    {
        await _writer.DisposeAsync();
        await stream.DisposeAsync();
    }
}
