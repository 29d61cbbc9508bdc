using System.Text.Json.Nodes;

namespace Turbine.Kubernetes.Cluster;

/// <summary>Reads and writes the metadata every Kubernetes object carries, over its JSON.</summary>
public static class KubeObject
{
    public static JsonObject Metadata(JsonObject item)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (item["metadata"] is not JsonObject metadata)
        {
            item["metadata"] = metadata = [];
        }

        return metadata;
    }

    public static string Name(JsonObject item) => (string?)Metadata(item)["name"] ?? string.Empty;

    public static string Namespace(JsonObject item) => (string?)Metadata(item)["namespace"] ?? string.Empty;

    public static string? Uid(JsonObject item) => (string?)Metadata(item)["uid"];

    public static string? ResourceVersion(JsonObject item) => (string?)Metadata(item)["resourceVersion"];

    public static long Generation(JsonObject item) => Integer(Metadata(item)["generation"]) ?? 0;

    /// <summary>A whole number however the node holds it (parsed JSON, or an int or long set in code); null when absent.</summary>
    public static long? Integer(JsonNode? node) => node switch
    {
        JsonValue value when value.TryGetValue<long>(out var whole) => whole,
        JsonValue value when value.TryGetValue<int>(out var small) => small,
        _ => null,
    };

    public static bool IsDeleting(JsonObject item) => Metadata(item)["deletionTimestamp"] is not null;

    public static IReadOnlyList<string> Finalizers(JsonObject item) =>
        Metadata(item)["finalizers"] is JsonArray finalizers ? [.. finalizers.Select(f => (string?)f ?? string.Empty)] : [];

    public static void SetFinalizers(JsonObject item, IEnumerable<string> finalizers)
    {
        var list = new JsonArray([.. finalizers.Select(f => (JsonNode?)JsonValue.Create(f))]);
        if (list.Count == 0)
        {
            Metadata(item).Remove("finalizers");
        }
        else
        {
            Metadata(item)["finalizers"] = list;
        }
    }

    public static IReadOnlyDictionary<string, string> Labels(JsonObject item) =>
        Metadata(item)["labels"] is JsonObject labels
            ? labels.ToDictionary(l => l.Key, l => (string?)l.Value ?? string.Empty, StringComparer.Ordinal)
            : new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Whether the object is controlled by the owner of this UID (its controller reference names it).</summary>
    public static bool IsControlledBy(JsonObject item, string ownerUid) =>
        Metadata(item)["ownerReferences"] is JsonArray owners
        && owners.Any(o => o is JsonObject owner && (string?)owner["uid"] == ownerUid && (bool?)owner["controller"] == true);

    /// <summary>Whether every label of <paramref name="selector"/> is on the object with the same value.</summary>
    public static bool Matches(JsonObject item, IReadOnlyDictionary<string, string>? selector)
    {
        if (selector is null)
        {
            return true;
        }

        var labels = Labels(item);
        return selector.All(s => labels.TryGetValue(s.Key, out var value) && value == s.Value);
    }

    /// <summary>A deep copy, so that what the caller keeps is not what the caller changes.</summary>
    public static JsonObject Clone(JsonObject item) => (JsonObject)item.DeepClone();
}
