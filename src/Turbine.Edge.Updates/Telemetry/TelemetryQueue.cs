using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Turbine.Edge.Updates.Telemetry;

/// <summary>A queued record: its sequence number and its JSON line.</summary>
/// <param name="Sequence">Its place in the queue (also the tail of its id).</param>
/// <param name="Json">The JSON object, one line.</param>
public sealed record TelemetryRecord(long Sequence, string Json);

/// <summary>
/// Telemetry kept on disk while the device is offline: JSON lines in segment files, each record with a stable id
/// (<c>DEVICE-SEQUENCE</c>) so that a receiver can drop a record it saw before (a batch sent just before a crash is
/// sent again). Bounded in bytes: when full, the oldest segment goes, and the records lost are counted in a
/// <c>dropped</c> record and in <see cref="Dropped"/>. Appends are flushed to disk; the acknowledged position is
/// written atomically.
/// </summary>
public sealed class TelemetryQueue
{
    private const string CursorFile = "cursor";
    private readonly Lock _gate = new();
    private readonly string _folder;
    private readonly string _device;
    private readonly long _maxBytes;
    private readonly long _segmentBytes;
    private readonly TimeProvider _time;
    private long _acknowledged;
    private long _next;

    /// <summary>Opens (or creates) the queue in <paramref name="folder"/>.</summary>
    public TelemetryQueue(string folder, string device, long maxBytes, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 16 * 1024);
        _folder = folder;
        _device = device;
        _maxBytes = maxBytes;
        _segmentBytes = Math.Max(4 * 1024, maxBytes / 16);
        _time = time;
        Directory.CreateDirectory(folder);
        var cursor = Path.Combine(folder, CursorFile);
        if (File.Exists(cursor) && File.ReadAllText(cursor).Split(' ') is [var acked, var dropped]
            && long.TryParse(acked, CultureInfo.InvariantCulture, out _acknowledged) && long.TryParse(dropped, CultureInfo.InvariantCulture, out var lost))
        {
            Dropped = lost;
        }

        TerminateCutLine();
        var newest = Segments() is [.., var last] ? File.ReadLines(last).Select(Sequence).LastOrDefault(s => s is not null) ?? FirstSequence(last) - 1 : 0;
        _next = Math.Max(_acknowledged, newest) + 1;
    }

    /// <summary>Records lost to the bound since the queue was created.</summary>
    public long Dropped { get; private set; }

    /// <summary>Bytes on disk now.</summary>
    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return Segments().Sum(segment => new FileInfo(segment).Length);
            }
        }
    }

    /// <summary>Appends a record of <paramref name="kind"/> with the fields <paramref name="fields"/> writes.</summary>
    public void Append(string kind, Action<Utf8JsonWriter> fields)
    {
        lock (_gate)
        {
            var line = Line(kind, fields);
            var segments = Segments();
            var current = segments.Count > 0 && new FileInfo(segments[^1]).Length + line.Length <= _segmentBytes
                ? segments[^1]
                : Path.Combine(_folder, $"{_next:D16}.jsonl");
            using (var stream = new FileStream(current, FileMode.Append, FileAccess.Write, FileShare.Read))
            {
                stream.Write(line);
                stream.Flush(flushToDisk: true);
            }

            _next++;
            EnforceBound();
        }
    }

    /// <summary>Up to <paramref name="max"/> records not yet acknowledged, oldest first.</summary>
    public IReadOnlyList<TelemetryRecord> Pending(int max)
    {
        lock (_gate)
        {
            var records = new List<TelemetryRecord>();
            foreach (var segment in Segments())
            {
                foreach (var line in File.ReadLines(segment))
                {
                    if (Sequence(line) is { } sequence && sequence > _acknowledged)
                    {
                        records.Add(new TelemetryRecord(sequence, line));
                        if (records.Count == max)
                        {
                            return records;
                        }
                    }
                }
            }

            return records;
        }
    }

    /// <summary>Marks every record up to <paramref name="sequence"/> delivered and deletes the segments that held only those.</summary>
    public void Acknowledge(long sequence)
    {
        lock (_gate)
        {
            _acknowledged = Math.Max(_acknowledged, sequence);
            SaveCursor();
            var segments = Segments();
            for (var i = 0; i < segments.Count; i++)
            {
                if (LastSequence(segments, i) <= _acknowledged)
                {
                    File.Delete(segments[i]);
                }
            }
        }
    }

    private byte[] Line(string kind, Action<Utf8JsonWriter> fields)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id", $"{_device}-{_next}");
            writer.WriteNumber("seq", _next);
            writer.WriteString("time", _time.GetUtcNow());
            writer.WriteString("kind", kind);
            fields(writer);
            writer.WriteEndObject();
        }

        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    private void EnforceBound()
    {
        var segments = Segments();
        var total = segments.Sum(segment => new FileInfo(segment).Length);
        var lost = 0L;
        for (var i = 0; i < segments.Count - 1 && total > _maxBytes; i++)
        {
            total -= new FileInfo(segments[i]).Length;
            lost += Math.Max(0, LastSequence(segments, i) - Math.Max(FirstSequence(segments[i]) - 1, _acknowledged));
            File.Delete(segments[i]);
        }

        if (lost > 0)
        {
            Dropped += lost;
            SaveCursor();
            var count = lost;
            var dropped = Dropped;
            var line = Line("dropped", writer =>
            {
                writer.WriteNumber("count", count);
                writer.WriteNumber("total", dropped);
            });
            using var stream = new FileStream(segments[^1], FileMode.Append, FileAccess.Write, FileShare.Read); // the newest segment is never dropped
            stream.Write(line);
            stream.Flush(flushToDisk: true);
            _next++;
        }
    }

    /// <summary>Ends a line a power loss cut short, so that the next record starts on a line of its own.</summary>
    private void TerminateCutLine()
    {
        if (Segments() is not [.., var last])
        {
            return;
        }

        using var stream = new FileStream(last, FileMode.Open, FileAccess.ReadWrite);
        if (stream.Length > 0)
        {
            stream.Seek(-1, SeekOrigin.End);
            if (stream.ReadByte() != '\n')
            {
                stream.WriteByte((byte)'\n');
                stream.Flush(flushToDisk: true);
            }
        }
    }

    private void SaveCursor() => DurableFile.Write(Path.Combine(_folder, CursorFile), Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{_acknowledged} {Dropped}")));

    private List<string> Segments() => [.. Directory.GetFiles(_folder, "*.jsonl").Order(StringComparer.Ordinal)];

    /// <summary>A segment is named by its first record's sequence (records only ever go to the newest one).</summary>
    private static long FirstSequence(string segment) => long.Parse(Path.GetFileNameWithoutExtension(segment), CultureInfo.InvariantCulture);

    /// <summary>Segment <paramref name="index"/>'s last sequence: the next one's first less one, or the newest record's.</summary>
    private long LastSequence(List<string> segments, int index) => index + 1 < segments.Count ? FirstSequence(segments[index + 1]) - 1 : _next - 1;

    private static long? Sequence(string line)
    {
        // A line cut by a power loss mid-write is not JSON: it is skipped rather than stopping the queue.
        try
        {
            using var document = JsonDocument.Parse(line);
            return document.RootElement.TryGetProperty("seq", out var seq) && seq.TryGetInt64(out var value) ? value : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
