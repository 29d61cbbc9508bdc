using Turbine.Jobs.Mapping;

namespace Turbine.Jobs.Output;

/// <summary>One KServe v2 inference response per request line: its id, the model, and each output with datatype, shape and flat data.</summary>
internal sealed class KServePartWriter(Stream stream, string model) : PartWriter
{
    private readonly JsonLineWriter _lines = new(stream);

    public override ValueTask WriteAsync(ScoredRow row, CancellationToken cancellationToken) =>
        _lines.WriteAsync(writer =>
        {
            writer.WriteStartObject();
            if (row.Keys.Length > 0 && row.Keys[0] is string id)
            {
                writer.WriteString("id", id);
            }

            writer.WriteString("model_name", model);
            writer.WriteStartArray("outputs");
            foreach (var output in row.Outputs!)
            {
                writer.WriteStartObject();
                writer.WriteString("name", output.Name);
                writer.WriteString("datatype", output.DataType.ToWireName());
                writer.WriteStartArray("shape");
                foreach (var dim in output.Shape)
                {
                    writer.WriteNumberValue(dim);
                }

                writer.WriteEndArray();
                writer.WritePropertyName("data");
                OutputJson.WriteFlat(writer, output.Values);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }, cancellationToken);

    public override ValueTask CompleteAsync(CancellationToken cancellationToken) => _lines.CompleteAsync(cancellationToken);

    public override ValueTask DisposeAsync() => _lines.DisposeAsync();
}
