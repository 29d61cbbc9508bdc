using System.Buffers;
using System.Text.Json;

namespace Turbine.Core.State;

/// <summary>Writing documents with a <see cref="Utf8JsonWriter"/>, as every owner of state does.</summary>
public static class StateStoreExtensions
{
    private static readonly JsonWriterOptions Indented = new() { Indented = true };

    /// <summary>Creates or replaces a document with what <paramref name="write"/> writes.</summary>
    public static void PutJson(this IStateStore store, string kind, string name, Action<Utf8JsonWriter> write)
    {
        ArgumentNullException.ThrowIfNull(store);
        store.Put(kind, name, Serialize(write).WrittenSpan);
    }

    /// <summary>Appends one record with what <paramref name="write"/> writes.</summary>
    public static void AppendJson(this IStateStore store, string log, Action<Utf8JsonWriter> write)
    {
        ArgumentNullException.ThrowIfNull(store);
        store.Append(log, Serialize(write, indented: false).WrittenSpan);
    }

    private static ArrayBufferWriter<byte> Serialize(Action<Utf8JsonWriter> write, bool indented = true)
    {
        ArgumentNullException.ThrowIfNull(write);
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, indented ? Indented : default))
        {
            write(writer);
        }

        return buffer;
    }
}
