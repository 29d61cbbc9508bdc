using System.Text.Json.Nodes;

namespace Turbine.Kubernetes.Reconciliation;

/// <summary>
/// How a desired object meets the live one. The operator states the fields it owns; the API server adds defaults
/// (a container's pull policy, a Service's cluster IP) and others add theirs (an HPA's replica count). So a live
/// object is in step when every field the operator states has the stated value, arrays whole and in order; a null
/// states "absent". An update writes the stated fields over the live object and keeps the rest.
/// </summary>
public static class LiveObjectMerge
{
    /// <summary>Whether <paramref name="live"/> holds every field of <paramref name="desired"/> with its value.</summary>
    public static bool IsSatisfied(JsonObject desired, JsonObject live)
    {
        ArgumentNullException.ThrowIfNull(desired);
        ArgumentNullException.ThrowIfNull(live);
        foreach (var (key, wanted) in desired)
        {
            live.TryGetPropertyValue(key, out var actual);
            if (!Satisfies(wanted, actual))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The live object with the desired fields written over it (a null removes the field).</summary>
    public static JsonObject Merge(JsonObject desired, JsonObject live)
    {
        ArgumentNullException.ThrowIfNull(desired);
        ArgumentNullException.ThrowIfNull(live);
        var merged = (JsonObject)live.DeepClone();
        MergeInto(desired, merged);
        return merged;
    }

    private static bool Satisfies(JsonNode? wanted, JsonNode? actual) => wanted switch
    {
        null => actual is null,
        JsonObject fields => actual is JsonObject live && IsSatisfied(fields, live),
        JsonArray items => actual is JsonArray live && live.Count == items.Count && items.Select((item, i) => Satisfies(item, live[i])).All(ok => ok),
        _ => actual is not null && JsonNode.DeepEquals(wanted, actual),
    };

    private static void MergeInto(JsonObject desired, JsonObject target)
    {
        foreach (var (key, wanted) in desired)
        {
            if (wanted is null)
            {
                target.Remove(key);
            }
            else if (wanted is JsonObject fields && target[key] is JsonObject existing)
            {
                MergeInto(fields, existing);
            }
            else
            {
                target[key] = wanted.DeepClone();
            }
        }
    }
}
