using Turbine.Jobs.Mapping;

namespace Turbine.Jobs.Output;

/// <summary>
/// The rows of a partition that could not be scored, one JSON object per line: the row's number, its key cells, the
/// reason and the attempts. Written beside the part as <c>errors/part-NNNNN.jsonl</c>.
/// </summary>
internal sealed class DeadLetterWriter(Stream stream, IReadOnlyList<string> keys) : IAsyncDisposable
{
    private readonly JsonLineWriter _lines = new(stream);

    public ValueTask WriteAsync(ScoredRow row, CancellationToken cancellationToken) =>
        _lines.WriteAsync(writer =>
        {
            writer.WriteStartObject();
            writer.WriteNumber("row", row.Number);
            if (keys.Count > 0)
            {
                writer.WriteStartObject("keys");
                for (var k = 0; k < keys.Count; k++)
                {
                    writer.WritePropertyName(keys[k]);
                    OutputJson.WriteCell(writer, row.Keys[k]);
                }

                writer.WriteEndObject();
            }

            writer.WriteString("error", row.Error);
            writer.WriteNumber("attempts", row.Attempts);
            writer.WriteEndObject();
        }, cancellationToken);

    public ValueTask CompleteAsync(CancellationToken cancellationToken) => _lines.CompleteAsync(cancellationToken);

    public ValueTask DisposeAsync() => _lines.DisposeAsync();
}
