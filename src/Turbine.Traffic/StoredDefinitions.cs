using System.Buffers;
using System.Text.Json;
using Turbine.Core.State;

namespace Turbine.Traffic;

/// <summary>What the route and pipeline tables share when they take up other replicas' changes.</summary>
internal static class StoredDefinitions
{
    /// <summary>Every name to look at again: those published here and those the store holds (either may be new to the other).</summary>
    /// <exception cref="IOException">The store could not be read.</exception>
    public static HashSet<string> NamesToRefresh(IStateStore store, string kind, IEnumerable<string> published)
    {
        var names = new HashSet<string>(published, StringComparer.Ordinal);
        foreach (var document in store.List(kind))
        {
            names.Add(document.Name);
        }

        return names;
    }

    /// <summary>Whether two definitions write the same JSON: a change that comes back unchanged is not compiled again.</summary>
    public static bool SameJson<T>(T first, T second, Action<Utf8JsonWriter, T> write) =>
        Serialize(first, write).AsSpan().SequenceEqual(Serialize(second, write));

    private static byte[] Serialize<T>(T definition, Action<Utf8JsonWriter, T> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer, definition);
        }

        return buffer.WrittenSpan.ToArray();
    }
}
