using Turbine.Jobs.Mapping;

namespace Turbine.Jobs.Output;

/// <summary>One JSON object per row: the keys, then each output.</summary>
internal sealed class JsonLinesPartWriter(Stream stream, IReadOnlyList<string> keys) : PartWriter
{
    private readonly JsonLineWriter _lines = new(stream);
    private readonly IReadOnlyList<string> _keyNames = KeyNames(keys);

    public override ValueTask WriteAsync(ScoredRow row, CancellationToken cancellationToken) =>
        _lines.WriteAsync(writer =>
        {
            writer.WriteStartObject();
            var values = KeyValues(row, keys.Count);
            for (var k = 0; k < values.Length; k++)
            {
                writer.WritePropertyName(_keyNames[k]);
                OutputJson.WriteCell(writer, values[k]);
            }

            foreach (var output in row.Outputs!)
            {
                writer.WritePropertyName(output.Name);
                OutputJson.WriteOutput(writer, output);
            }

            writer.WriteEndObject();
        }, cancellationToken);

    public override ValueTask CompleteAsync(CancellationToken cancellationToken) => _lines.CompleteAsync(cancellationToken);

    public override ValueTask DisposeAsync() => _lines.DisposeAsync();
}
