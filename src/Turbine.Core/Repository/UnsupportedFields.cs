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

    private static readonly HashSet<string> InstanceGroup = ["name", "kind", "count"];

    private static readonly HashSet<string> DynamicBatching =
    [
        "preferred_batch_size", "max_queue_delay_microseconds", "preserve_ordering", "priority_levels", "default_priority_level",
        "default_queue_policy", "priority_queue_policy", "max_latency_ms",
    ];

    /// <summary>The fields of <paramref name="root"/> nobody acts on; <paramref name="backendSection"/> is the backend's own and read by it.</summary>
    public static List<string> Find(JsonElement root, string? backendSection)
    {
        var found = new List<string>();
        Collect(root, "", TopLevel, found);
        found.Remove(backendSection ?? string.Empty);
        CollectEach(root, "input", Tensor, found);
        CollectEach(root, "output", Tensor, found);
        CollectEach(root, "instance_group", InstanceGroup, found);
        if (root.TryGetProperty("dynamic_batching", out var batching))
        {
            Collect(batching, "dynamic_batching.", DynamicBatching, found);
        }

        return found;
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
