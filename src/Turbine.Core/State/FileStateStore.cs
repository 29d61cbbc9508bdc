using System.Buffers;
using Turbine.Core.Lifecycle;
using Turbine.Core.Repository;

namespace Turbine.Core.State;

/// <summary>
/// The embedded state store: a folder (the server's <c>StateDirectory</c>) that one server owns. A document is
/// <c>&lt;folder&gt;/&lt;kind&gt;/&lt;name&gt;.json</c>, written to a temporary file, flushed and renamed over the old
/// one, so a process killed mid-write restarts with the old document or the new one; a log is
/// <c>&lt;folder&gt;/&lt;log&gt;.jsonl</c>, one record a line, appended and flushed. Nobody else writes here, so it
/// raises no changes and this server always leads. Every path segment is checked against the name rules before it
/// touches the disk (SECURITY.md A2).
/// </summary>
public sealed class FileStateStore : IStateStore
{
    private readonly Lock _appends = new();

    /// <summary>Creates the store over <paramref name="folder"/> (created on the first write), deleting what writes interrupted by a killed process left (SECURITY.md F1).</summary>
    /// <param name="folder">The state directory.</param>
    /// <param name="replica">The name this server's per-replica documents are kept under.</param>
    public FileStateStore(string folder, string replica = "local")
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!ModelNames.IsValid(replica))
        {
            throw new ArgumentException($"'{replica}' is not a valid replica name", nameof(replica));
        }

        Folder = Path.GetFullPath(folder);
        Replica = replica;
        DeleteLeftovers(Folder);
    }

    /// <summary>The state directory.</summary>
    public string Folder { get; }

    /// <inheritdoc/>
    public string Replica { get; }

    /// <inheritdoc/>
    public bool IsShared => false;

    /// <inheritdoc/>
    public bool IsLeader => true;

    /// <inheritdoc/>
    public event Action<StateChange>? Changed
    {
        add { }
        remove { }
    }

    /// <inheritdoc/>
    public IReadOnlyList<StateDocument> List(string kind)
    {
        var folder = FolderOf(kind);
        var documents = new List<StateDocument>();
        return Guard(() =>
        {
            if (Directory.Exists(folder))
            {
                foreach (var file in Directory.EnumerateFiles(folder, "*.json"))
                {
                    documents.Add(new StateDocument(Path.GetFileNameWithoutExtension(file), File.ReadAllBytes(file)));
                }
            }

            return documents;
        });
    }

    /// <inheritdoc/>
    public byte[]? Find(string kind, string name)
    {
        var path = DocumentPath(kind, name);
        return Guard(() => File.Exists(path) ? File.ReadAllBytes(path) : null);
    }

    /// <inheritdoc/>
    public void Put(string kind, string name, ReadOnlySpan<byte> body)
    {
        var path = DocumentPath(kind, name);
        var copy = body.ToArray();
        Guard(() => AtomicFile.WriteBytes(path, copy));
    }

    /// <inheritdoc/>
    public void Delete(string kind, string name)
    {
        var path = DocumentPath(kind, name);
        Guard(() =>
        {
            if (File.Exists(path))
            {
                File.Delete(path);
            }
        });
    }

    /// <inheritdoc/>
    public void DeleteAll(string kind)
    {
        var folder = FolderOf(kind);
        Guard(() =>
        {
            if (Directory.Exists(folder))
            {
                foreach (var file in Directory.EnumerateFiles(folder, "*.json*"))
                {
                    File.Delete(file);
                }
            }
        });
    }

    /// <inheritdoc/>
    public void Append(string log, ReadOnlySpan<byte> record)
    {
        var path = LogPath(log);
        var line = new ArrayBufferWriter<byte>(record.Length + 1);
        line.Write(record);
        line.Write("\n"u8);
        lock (_appends)
        {
            Guard(() =>
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
                stream.Write(line.WrittenSpan);
                stream.Flush(flushToDisk: true);
            });
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<StateLogRecord> ReadLog(string log, long after, int max)
    {
        var path = LogPath(log);
        return Guard(() =>
        {
            var records = new List<StateLogRecord>();
            if (!File.Exists(path))
            {
                return records;
            }

            long position = 0;
            foreach (var line in File.ReadLines(path))
            {
                if (++position > after && line.Length > 0 && records.Count < max)
                {
                    records.Add(new StateLogRecord(position, Replica, System.Text.Encoding.UTF8.GetBytes(line)));
                }
            }

            return records;
        });
    }

    /// <inheritdoc/>
    public long LogEnd(string log)
    {
        var path = LogPath(log);
        return Guard(() => File.Exists(path) ? File.ReadLines(path).LongCount() : 0);
    }

    /// <inheritdoc/>
    /// <remarks>Only logs that replicas share are trimmed, and a store of one server has none: nothing to do.</remarks>
    public void TrimLog(string log, TimeSpan age)
    {
    }

    private static void DeleteLeftovers(string folder)
    {
        if (Directory.Exists(folder))
        {
            foreach (var kind in Directory.EnumerateDirectories(folder, "*", SearchOption.AllDirectories).Prepend(folder))
            {
                AtomicFile.DeleteLeftovers(kind);
            }
        }
    }

    private string DocumentPath(string kind, string name) => Path.Combine(FolderOf(kind), CheckedSegment(name) + ".json");

    private string LogPath(string log) => FolderOf(log) + ".jsonl";

    /// <summary>The folder of a kind: its first segment is one of <see cref="StateKinds"/>, the rest must pass the name rules.</summary>
    private string FolderOf(string kind)
    {
        var segments = kind.Split('/');
        var path = Folder;
        foreach (var segment in segments)
        {
            path = Path.Combine(path, CheckedSegment(segment));
        }

        return path;
    }

    private static string CheckedSegment(string segment) =>
        ModelNames.IsValid(segment) ? segment : throw new ArgumentException($"'{ClientText.Quote(segment)}' is not a valid state name");

    private static T Guard<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && e is not StateStoreException)
        {
            throw new StateStoreException("the state directory could not be read or written: " + e.Message, e);
        }
    }

    private static void Guard(Action action) => Guard(() =>
    {
        action();
        return true;
    });
}
