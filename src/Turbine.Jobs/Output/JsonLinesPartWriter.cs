using System.Text.Json;
using Turbine.Jobs.Mapping;

namespace Turbine.Jobs.Output;

/// <summary>One JSON object per row: the keys, then each output.</summary>
internal sealed class JsonLinesPartWriter(Stream stream, IReadOnlyList<string> keys) : PartWriter
{
    private readonly Utf8JsonWriter _writer = new(stream, OutputJson.Lines);
    private readonly IReadOnlyList<string> _keyNames = KeyNames(keys);

    public override async ValueTask WriteAsync(ScoredRow row, CancellationToken cancellationToken)
    {
        _writer.WriteStartObject();
        var values = KeyValues(row, keys.Count);
        for (var k = 0; k < values.Length; k++)
        {
            _writer.WritePropertyName(_keyNames[k]);
            OutputJson.WriteCell(_writer, values[k]);
        }

        foreach (var output in row.Outputs!)
        {
            _writer.WritePropertyName(output.Name);
            OutputJson.WriteOutput(_writer, output);
        }

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
