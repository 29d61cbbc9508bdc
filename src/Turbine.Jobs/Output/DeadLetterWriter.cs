using System.Text.Json;
using Turbine.Jobs.Mapping;

namespace Turbine.Jobs.Output;

/// <summary>
/// The rows of a partition that could not be scored, one JSON object per line: the row's number, its key cells, the
/// reason and the attempts. Written beside the part as <c>errors/part-NNNNN.jsonl</c>.
/// </summary>
internal sealed class DeadLetterWriter(Stream stream, IReadOnlyList<string> keys) : IAsyncDisposable
{
    private readonly Utf8JsonWriter _writer = new(stream, OutputJson.Lines);

    public async ValueTask WriteAsync(ScoredRow row, CancellationToken cancellationToken)
    {
        _writer.WriteStartObject();
        _writer.WriteNumber("row", row.Number);
        if (keys.Count > 0)
        {
            _writer.WriteStartObject("keys");
            for (var k = 0; k < keys.Count; k++)
            {
                _writer.WritePropertyName(keys[k]);
                OutputJson.WriteCell(_writer, row.Keys[k]);
            }

            _writer.WriteEndObject();
        }

        _writer.WriteString("error", row.Error);
        _writer.WriteNumber("attempts", row.Attempts);
        _writer.WriteEndObject();
        await _writer.FlushAsync(cancellationToken);
        stream.WriteByte((byte)'\n');
        _writer.Reset();
    }

    public async ValueTask CompleteAsync(CancellationToken cancellationToken)
    {
        await _writer.FlushAsync(cancellationToken);
        await stream.FlushAsync(cancellationToken);
        if (stream is FileStream file)
        {
            file.Flush(flushToDisk: true);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _writer.DisposeAsync();
        await stream.DisposeAsync();
    }
}
