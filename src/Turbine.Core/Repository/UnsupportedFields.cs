using System.Text.Json;

namespace Turbine.Core.Repository;

/// <summary>
/// Names the fields of a configuration that Turbine does not act on, so that a repository written for Triton loads
/// and says plainly which of its settings are ignored ("optimization", "input[0].format", ...).
/// </summary>
internal static class UnsupportedFields
{
    private static readonly HashSet<string> TopLevel =
        ["name", "platform", "backend", "max_batch_size", "input", "output", "instance_group", "version_policy", "max_queue_size", "background_lane", "dynamic_batching", "model_warmup", "response_cache", "default_model_filename",
         "monitoring"]; // monitoring: read by the monitoring hub when the version loads (docs/MONITORING.md)

    private static readonly HashSet<string> Tensor = ["name", "data_type", "dims", "reshape", "label_filename", "optional"];

    private static readonly HashSet<string> InstanceGroup = ["name", "kind", "count", "gpus"];

    private static readonly HashSet<string> DynamicBatching =
    [
        "preferred_batch_size", "max_queue_delay_microseconds", "preserve_ordering", "priority_levels", "default_priority_level",
        "default_queue_policy", "priority_queue_policy", "max_latency_ms",
    ];

    /// <summary>
    /// The fields of <paramref name="root"/> nobody acts on; <paramref name="backendSection"/> is the backend's own and
    /// read by it, as are the <paramref name="honoured"/> fields (dotted paths) it reads elsewhere: their parents are
    /// then reported child by child.
    /// </summary>
    public static List<string> Find(JsonElement root, string? backendSection, IReadOnlyList<string> honoured)
    {
        ArgumentNullException.ThrowIfNull(honoured);
        var found = new List<string>();
        Collect(root, "", TopLevel, found);
        found.Remove(backendSection ?? string.Empty);
        foreach (var path in honoured)
        {
            var segments = path.Split('.');
            if (found.Remove(segments[0]))
            {
                Expand(root, segments, 0, found);
            }
        }

        CollectEach(root, "input", Tensor, found);
        CollectEach(root, "output", Tensor, found);
        CollectEach(root, "instance_group", InstanceGroup, found);
        if (root.TryGetProperty("dynamic_batching", out var batching))
        {
            Collect(batching, "dynamic_batching.", DynamicBatching, found);
        }

        return found;
    }

    /// <summary>
    /// Below an honoured path's segment <paramref name="depth"/>: every sibling of the next segment is reported, and the
    /// next segment is expanded in turn, so that only the honoured field itself goes unreported.
    /// </summary>
    private static void Expand(JsonElement parent, string[] segments, int depth, List<string> found)
    {
        if (!parent.TryGetProperty(segments[depth], out var element))
        {
            return;
        }

        if (element.ValueKind == JsonValueKind.Array && element.GetArrayLength() == 1)
        {
            element = element[0]; // config.pbtxt's reader lists a single message written once
        }

        if (depth + 1 >= segments.Length || element.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        Collect(element, string.Join('.', segments[..(depth + 1)]) + ".", [segments[depth + 1]], found);
        Expand(element, segments, depth + 1, found);
    }

    private static void CollectEach(JsonElement root, string array, HashSet<string> known, List<string> found)
    {
        if (root.TryGetProperty(array, out var items) && items.ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            foreach (var item in items.EnumerateArray())
            {
                Collect(item, $"{array}[{index++}].", known, found);
            }
        }
    }

    private static void Collect(JsonElement element, string prefix, HashSet<string> known, List<string> found)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (var property in element.EnumerateObject())
        {
            if (!known.Contains(property.Name))
            {
                found.Add(prefix + property.Name);
            }
        }
    }
}
