using System.Text.Json;
using static Turbine.ConfigJson;

namespace Turbine.Core.Repository;

/// <summary>
/// Reads <c>config.json</c> in Triton's JSON form (<c>max_batch_size</c>, <c>input</c>/<c>output</c> with
/// <c>data_type</c> and <c>dims</c>, <c>instance_group</c>, <c>version_policy</c>) plus Turbine's
/// backend's own section (read by the backend, <see cref="IModelBackend.ReadSettings(System.Text.Json.JsonElement?, List{string})"/>). Every problem found is added to the error list; reading goes on.
/// </summary>
internal static class ModelConfigReader
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 64, CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    public static ModelConfigDraft Read(string json, List<string> errors)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, Options);
        }
        catch (JsonException e)
        {
            errors.Add($"config.json is not valid JSON: {e.Message}");
            return new ModelConfigDraft();
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                errors.Add("config.json must hold a JSON object");
                return new ModelConfigDraft();
            }

            var sequences = SequenceBatchingReader.Read(root, errors, out var initialFiles);
            return new ModelConfigDraft
            {
                Name = String(root, "name", errors),
                Backend = String(root, "backend", errors),
                Platform = String(root, "platform", errors),
                MaxBatchSize = Int(root, "max_batch_size", errors),
                Inputs = Tensors(root, "input", errors),
                Outputs = Tensors(root, "output", errors),
                InstanceCount = InstanceCount(root, errors, out var devices),
                InstanceDevices = devices,
                GpuGroup = GpuGroup(root),
                VersionPolicy = Policy(root, errors),
                MaxQueueSize = Int(root, "max_queue_size", errors),
                BackgroundLane = BackgroundLane(root, errors),
                DynamicBatching = DynamicBatching(root, errors),
                QueuePolicy = QueuePolicy(root, errors),
                SequenceBatching = sequences,
                SequenceInitialFiles = initialFiles,
                Warmup = WarmupReader.Read(root, errors),
                ResponseCache = root.TryGetProperty("response_cache", out var cache) ? Bool(cache, "enable", errors, "response_cache") : null,
                DefaultModelFileName = ModelFileName(root, errors),
                Root = root.Clone(), // the backend reads its own section once it is known
            };
        }
    }

    private static List<TensorConfigDraft>? Tensors(JsonElement root, string property, List<string> errors)
    {
        if (!root.TryGetProperty(property, out var array))
        {
            return null;
        }

        if (array.ValueKind != JsonValueKind.Array)
        {
            errors.Add($"'{property}' must be an array");
            return null;
        }

        var result = new List<TensorConfigDraft>();
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            var where = $"{property}[{index++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                errors.Add($"'{where}' must be an object");
                continue;
            }

            var name = String(item, "name", errors, where);
            if (string.IsNullOrEmpty(name))
            {
                errors.Add($"'{where}' needs a 'name'");
                continue;
            }

            DataType? type = null;
            var typeName = String(item, "data_type", errors, where);
            if (typeName is not null)
            {
                if (DataTypes.TryParse(typeName, out var parsed))
                {
                    type = parsed;
                }
                else
                {
                    errors.Add($"'{where}.data_type' '{typeName}' is not a data type; expected e.g. TYPE_FP32 or FP32");
                }
            }

            long[]? reshape = null;
            if (item.TryGetProperty("reshape", out var reshapeElement))
            {
                reshape = reshapeElement.ValueKind == JsonValueKind.Object
                    ? Longs(reshapeElement, "shape", errors, where + ".reshape") ?? []
                    : null;
                if (reshapeElement.ValueKind != JsonValueKind.Object)
                {
                    errors.Add($"'{where}.reshape' must be an object with a 'shape' array");
                }
            }

            result.Add(new TensorConfigDraft(name, type, Longs(item, "dims", errors, where), reshape, String(item, "label_filename", errors, where), Bool(item, "optional", errors, where)));
        }

        return result;
    }

    /// <summary>
    /// The instances of every group: <c>count</c> each, or with <c>KIND_GPU</c> and <c>gpus</c> (Triton's placement)
    /// <c>count</c> on each listed device; <paramref name="devices"/> names each instance's GPU when any group wants one.
    /// </summary>
    private static int? InstanceCount(JsonElement root, List<string> errors, out IReadOnlyList<int> devices)
    {
        devices = [];
        if (!root.TryGetProperty("instance_group", out var groups))
        {
            return null;
        }

        if (groups.ValueKind != JsonValueKind.Array)
        {
            errors.Add("'instance_group' must be an array");
            return null;
        }

        var placed = new List<int>();
        var total = 0L;
        var anyGpu = false;
        var index = 0;
        foreach (var group in groups.EnumerateArray())
        {
            var where = $"instance_group[{index++}]";
            var count = group.ValueKind == JsonValueKind.Object ? Int(group, "count", errors, where) ?? 1 : 1;
            var kind = group.ValueKind == JsonValueKind.Object ? String(group, "kind", errors, where) : null;
            if (kind is not null and not "KIND_CPU" and not "KIND_GPU" and not "KIND_AUTO")
            {
                errors.Add($"'{where}.kind' '{kind}' is not one of KIND_AUTO, KIND_CPU, KIND_GPU");
            }

            var gpus = group.ValueKind == JsonValueKind.Object && group.TryGetProperty("gpus", out _) ? Longs(group, "gpus", errors, where) : null;
            if (gpus is { } listed && (kind != "KIND_GPU" || listed.Length == 0 || listed.Any(g => g is < 0 or > 63)))
            {
                errors.Add($"'{where}.gpus' must list device numbers from 0 to 63, in a KIND_GPU group");
                gpus = null;
            }

            anyGpu |= kind == "KIND_GPU";
            foreach (var device in kind == "KIND_GPU" ? gpus ?? [0] : [-1L])
            {
                total += count;
                if (count > 0 && total <= 64)
                {
                    placed.AddRange(Enumerable.Repeat((int)device, count)); // beyond 64 the validator refuses the count
                }
            }
        }

        devices = anyGpu ? placed : [];
        return (int)Math.Clamp(total, int.MinValue, int.MaxValue);
    }

    /// <summary><c>default_model_filename</c>: a plain file name (SECURITY.md A2), since it is joined to a version folder.</summary>
    private static string? ModelFileName(JsonElement root, List<string> errors)
    {
        var name = String(root, "default_model_filename", errors);
        if (name is not null && !ModelNames.IsValid(name))
        {
            errors.Add($"'default_model_filename' '{ClientText.Quote(name)}' must be a plain file name");
            return null;
        }

        return string.IsNullOrEmpty(name) ? null : name;
    }

    /// <summary>The first instance group that asks for <c>KIND_GPU</c> (<c>instance_group[1]</c>), or null.</summary>
    private static string? GpuGroup(JsonElement root)
    {
        if (!root.TryGetProperty("instance_group", out var groups) || groups.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var index = 0;
        foreach (var group in groups.EnumerateArray())
        {
            if (group.ValueKind == JsonValueKind.Object && group.TryGetProperty("kind", out var kind) && kind.ValueKind == JsonValueKind.String && kind.ValueEquals("KIND_GPU"))
            {
                return $"instance_group[{index}]";
            }

            index++;
        }

        return null;
    }

    private static DynamicBatchingConfig? DynamicBatching(JsonElement root, List<string> errors)
    {
        if (!root.TryGetProperty("dynamic_batching", out var section))
        {
            return null;
        }

        if (section.ValueKind != JsonValueKind.Object)
        {
            errors.Add("'dynamic_batching' must be an object");
            return null;
        }

        const string Where = "dynamic_batching";
        var preferred = Longs(section, "preferred_batch_size", errors, Where) ?? [];
        return new DynamicBatchingConfig
        {
            PreferredBatchSizes = preferred.Select(p => (int)Math.Clamp(p, int.MinValue, int.MaxValue)).ToArray(),
            MaxQueueDelayMicroseconds = Long(section, "max_queue_delay_microseconds", errors, Where) ?? 0,
            PreserveOrdering = Bool(section, "preserve_ordering", errors, Where) ?? false,
            PriorityLevels = Int(section, "priority_levels", errors, Where) ?? 0,
            DefaultPriorityLevel = Int(section, "default_priority_level", errors, Where) ?? 0,
            PriorityQueuePolicies = PriorityQueuePolicies(section, errors),
            MaxLatencyMilliseconds = Double(section, "max_latency_ms", errors, Where) ?? 0,
        };
    }

    /// <summary>Triton keeps the queue policy inside <c>dynamic_batching.default_queue_policy</c>; so does Turbine.</summary>
    private static QueuePolicyConfig? QueuePolicy(JsonElement root, List<string> errors) =>
        root.TryGetProperty("dynamic_batching", out var batching) && batching.ValueKind == JsonValueKind.Object &&
        batching.TryGetProperty("default_queue_policy", out var policy)
            ? QueuePolicy(policy, "dynamic_batching.default_queue_policy", errors)
            : null;

    private static BackgroundLaneConfig? BackgroundLane(JsonElement root, List<string> errors)
    {
        if (!root.TryGetProperty("background_lane", out var lane))
        {
            return null;
        }

        if (lane.ValueKind != JsonValueKind.Object)
        {
            errors.Add("'background_lane' must be an object");
            return null;
        }

        return new BackgroundLaneConfig(
            Int(lane, "max_queue_size", errors, "background_lane") ?? BackgroundLaneConfig.Default.MaxQueueSize,
            ConfigJson.Long(lane, "max_rows_in_flight", errors, "background_lane") ?? 0);
    }

    /// <summary><c>priority_queue_policy</c>: a map from priority level (a string key, as JSON objects have) to a queue policy.</summary>
    private static Dictionary<int, QueuePolicyConfig> PriorityQueuePolicies(JsonElement batching, List<string> errors)
    {
        var policies = new Dictionary<int, QueuePolicyConfig>();
        if (!batching.TryGetProperty("priority_queue_policy", out var map))
        {
            return policies;
        }

        const string Where = "dynamic_batching.priority_queue_policy";
        if (map.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"'{Where}' must be an object keyed by priority level");
            return policies;
        }

        foreach (var entry in map.EnumerateObject())
        {
            if (!int.TryParse(entry.Name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var level))
            {
                errors.Add($"'{Where}' has key '{entry.Name}'; keys must be priority levels (1, 2, ...)");
                continue;
            }

            if (QueuePolicy(entry.Value, $"{Where}.{entry.Name}", errors) is { } policy)
            {
                policies[level] = policy;
            }
        }

        return policies;
    }

    private static QueuePolicyConfig? QueuePolicy(JsonElement policy, string where, List<string> errors)
    {
        if (policy.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"'{where}' must be an object");
            return null;
        }

        var action = String(policy, "timeout_action", errors, where) ?? "REJECT";
        if (action is not "REJECT" and not "DELAY")
        {
            errors.Add($"'{where}.timeout_action' '{action}' is not REJECT or DELAY");
        }

        return new QueuePolicyConfig(
            Long(policy, "default_timeout_microseconds", errors, where) ?? 0,
            Bool(policy, "allow_timeout_override", errors, where) ?? false,
            action != "DELAY",
            Int(policy, "max_queue_size", errors, where) ?? 0);
    }

    private static VersionPolicy? Policy(JsonElement root, List<string> errors)
    {
        if (!root.TryGetProperty("version_policy", out var policy))
        {
            return null;
        }

        if (policy.ValueKind == JsonValueKind.Object)
        {
            if (policy.TryGetProperty("latest", out var latest) && latest.ValueKind == JsonValueKind.Object)
            {
                return new VersionPolicy("latest", Int(latest, "num_versions", errors, "version_policy.latest") ?? 1);
            }

            if (policy.TryGetProperty("all", out _))
            {
                return new VersionPolicy("all", 0);
            }

            if (policy.TryGetProperty("specific", out var specific) && specific.ValueKind == JsonValueKind.Object)
            {
                return new VersionPolicy("specific", 0, Longs(specific, "versions", errors, "version_policy.specific") ?? []);
            }
        }

        errors.Add("'version_policy' must be {\"latest\": {\"num_versions\": N}}, {\"all\": {}} or {\"specific\": {\"versions\": [...]}}");
        return null;
    }
}
