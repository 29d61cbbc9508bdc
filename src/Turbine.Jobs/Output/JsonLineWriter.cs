using System.Text.Json;

namespace Turbine.Jobs.Output;

/// <summary>One JSON value per line over a file stream it owns, flushed through to the disk when completed.</summary>
internal sealed class JsonLineWriter(Stream stream) : IAsyncDisposable
{
    private readonly Utf8JsonWriter _writer = new(stream, OutputJson.Lines);

    /// <summary>Writes one line: what <paramref name="write"/> writes, then a line break.</summary>
    public async ValueTask WriteAsync(Action<Utf8JsonWriter> write, CancellationToken cancellationToken)
    {
        write(_writer);
        await _writer.FlushAsync(cancellationToken);
        stream.WriteByte((byte)'\n');
        _writer.Reset();
    }

    public async ValueTask CompleteAsync(CancellationToken cancellationToken)
    {
        await _writer.FlushAsync(cancellationToken);
        await PartWriter.FlushToDiskAsync(stream, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _writer.DisposeAsync();
        await stream.DisposeAsync();
    }
}
