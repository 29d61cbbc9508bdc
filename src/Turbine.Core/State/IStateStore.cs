namespace Turbine.Core.State;

/// <summary>
/// Where everything an operator sets and every figure that must outlive a process is kept: route and pipeline
/// definitions, version routing, canary progress and its audit log, A/B figures and feedback. The local state
/// directory keeps it for one server; a database keeps it for every replica of a service, and then tells each replica
/// what the others changed (<see cref="Changed"/>) and which one of them leads (<see cref="IsLeader"/>).
/// </summary>
/// <remarks>
/// Documents are JSON bytes addressed by a kind (<see cref="StateKinds"/>, possibly with a route name after a slash)
/// and a name; logs are append-only sequences of JSON records. Every method may throw <see cref="StateStoreException"/>
/// when the store cannot be reached or written: callers keep what they could not write and try again, and never let
/// such a failure stop the host or fail an inference request (SECURITY.md F12).
/// </remarks>
public interface IStateStore
{
    /// <summary>This process's name among the replicas that share the store; documents it alone writes are named after it.</summary>
    string Replica { get; }

    /// <summary>Whether other replicas share the store (their changes arrive through <see cref="Changed"/>).</summary>
    bool IsShared { get; }

    /// <summary>
    /// Whether this replica takes the decisions that must be taken once for the service (judging a canary rollout).
    /// Always true for a store no one else shares.
    /// </summary>
    bool IsLeader { get; }

    /// <summary>
    /// Raised, on a thread of the store's own, when another replica put or deleted a document or appended to a log, or
    /// with <see cref="StateChange.Everything"/> when changes may have been missed (a reconnect) and all should be read again.
    /// </summary>
    event Action<StateChange>? Changed;

    /// <summary>Every document of <paramref name="kind"/>, in no particular order.</summary>
    IReadOnlyList<StateDocument> List(string kind);

    /// <summary>The document, or null when there is none.</summary>
    byte[]? Find(string kind, string name);

    /// <summary>Creates or replaces a document; durable when this returns.</summary>
    void Put(string kind, string name, ReadOnlySpan<byte> body);

    /// <summary>Deletes a document (nothing when there is none).</summary>
    void Delete(string kind, string name);

    /// <summary>Deletes every document of <paramref name="kind"/>.</summary>
    void DeleteAll(string kind);

    /// <summary>Appends one record to a log; durable when this returns.</summary>
    void Append(string log, ReadOnlySpan<byte> record);

    /// <summary>The records of <paramref name="log"/> after position <paramref name="after"/> (0: from the start), oldest first, at most <paramref name="max"/>.</summary>
    IReadOnlyList<StateLogRecord> ReadLog(string log, long after, int max);

    /// <summary>The position of the newest record of <paramref name="log"/> (0 when it is empty): reading after it returns only what comes next.</summary>
    long LogEnd(string log);

    /// <summary>Deletes the records of <paramref name="log"/> older than <paramref name="age"/> (for logs whose records matter only while fresh).</summary>
    void TrimLog(string log, TimeSpan age);
}

/// <summary>A stored document: its name and its JSON bytes.</summary>
/// <param name="Name">The document's name within its kind.</param>
/// <param name="Body">The JSON bytes.</param>
public sealed record StateDocument(string Name, byte[] Body);

/// <summary>One record of a log, with its position (increasing, not necessarily dense) and the replica that wrote it.</summary>
/// <param name="Position">Where the record stands in the log.</param>
/// <param name="Replica">The replica that appended it.</param>
/// <param name="Body">The JSON bytes.</param>
public sealed record StateLogRecord(long Position, string Replica, byte[] Body);

/// <summary>What another replica changed: a document of a kind (its name), or a log (<see cref="Name"/> is empty).</summary>
/// <param name="Kind">The kind of the document, or the log's name.</param>
/// <param name="Name">The document's name; empty for a log append.</param>
public readonly record struct StateChange(string Kind, string Name)
{
    /// <summary>Anything may have changed: read everything again.</summary>
    public static StateChange Everything { get; } = new("*", "*");

    /// <summary>Whether this stands for every document.</summary>
    public bool IsEverything => Kind == "*";
}

/// <summary>A store that could not be read or written (disk full, read-only volume, database down or slow).</summary>
public sealed class StateStoreException : IOException
{
    /// <summary>Creates the exception with a message.</summary>
    public StateStoreException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception around the store's own failure.</summary>
    public StateStoreException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>Creates the exception.</summary>
    public StateStoreException()
    {
    }
}
