using System.Text.Json;
using static Turbine.ConfigJson;

namespace Turbine.Core.Repository;

/// <summary>
/// Reads <c>sequence_batching</c> in Triton's JSON form: the strategy (<c>direct</c> or <c>oldest</c>),
/// <c>max_sequence_idle_microseconds</c>, <c>control_input</c> and <c>state</c>. An initial state's data file is
/// only named here; the repository reads it from the model's <c>initial_state/</c> folder.
/// </summary>
internal static class SequenceBatchingReader
{
    private const string Where = "sequence_batching";

    /// <param name="root">The whole configuration.</param>
    /// <param name="errors">Where problems go.</param>
    /// <param name="initialFiles">For each state (by index) whose initial state comes from a file, that file's name.</param>
    public static SequenceBatchingConfig? Read(JsonElement root, List<string> errors, out Dictionary<int, string> initialFiles)
    {
        initialFiles = [];
        if (!root.TryGetProperty("sequence_batching", out var section))
        {
            return null;
        }

        if (section.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"'{Where}' must be an object");
            return null;
        }

        if (Bool(section, "iterative_sequence", errors, Where) == true)
        {
            errors.Add($"'{Where}.iterative_sequence' is not supported: Turbine answers each request once");
        }

        var idle = Long(section, "max_sequence_idle_microseconds", errors, Where) ?? 0;
        var config = new SequenceBatchingConfig
        {
            MaxSequenceIdleMicroseconds = idle > 0 ? idle : SequenceBatchingConfig.DefaultMaxSequenceIdleMicroseconds, // 0 means the default, as in Triton
            Controls = Controls(section, errors),
            States = States(section, errors, initialFiles),
        };

        var hasDirect = section.TryGetProperty("direct", out var direct);
        var hasOldest = section.TryGetProperty("oldest", out var oldest);
        if (hasDirect && hasOldest)
        {
            errors.Add($"'{Where}' names both 'direct' and 'oldest'; choose one strategy");
        }

        if (hasOldest && Object(oldest, "oldest", errors))
        {
            var candidates = Int(oldest, "max_candidate_sequences", errors, Where + ".oldest") ?? 0;
            var preferred = Longs(oldest, "preferred_batch_size", errors, Where + ".oldest") ?? [];
            return config with
            {
                Strategy = SequenceStrategy.Oldest,
                MaxCandidateSequences = candidates > 0 ? candidates : SequenceBatchingConfig.DefaultMaxCandidateSequences,
                PreferredBatchSizes = [.. preferred.Select(size => (int)Math.Clamp(size, int.MinValue, int.MaxValue))],
                MaxQueueDelayMicroseconds = Long(oldest, "max_queue_delay_microseconds", errors, Where + ".oldest") ?? 0,
            };
        }

        if (hasDirect && Object(direct, "direct", errors))
        {
            return config with
            {
                MaxQueueDelayMicroseconds = Long(direct, "max_queue_delay_microseconds", errors, Where + ".direct") ?? 0,
                MinimumSlotUtilization = Double(direct, "minimum_slot_utilization", errors, Where + ".direct") ?? 0,
            };
        }

        return config;
    }

    private static bool Object(JsonElement element, string name, List<string> errors)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            return true;
        }

        errors.Add($"'{Where}.{name}' must be an object");
        return false;
    }

    private static List<SequenceControl> Controls(JsonElement section, List<string> errors)
    {
        var controls = new List<SequenceControl>();
        foreach (var (input, where) in Items(section, "control_input", errors))
        {
            var name = String(input, "name", errors, where);
            if (string.IsNullOrEmpty(name))
            {
                errors.Add($"'{where}' needs a 'name'");
                continue;
            }

            var entries = Items(input, "control", errors, where).ToList();
            if (entries.Count != 1)
            {
                errors.Add($"'{where}' ('{name}') must have exactly one 'control' entry, got {entries.Count}");
                continue;
            }

            if (Control(name, entries[0].Item, entries[0].Where, errors) is { } control)
            {
                controls.Add(control);
            }
        }

        return controls;
    }

    private static SequenceControl? Control(string name, JsonElement control, string where, List<string> errors)
    {
        var kind = String(control, "kind", errors, where) switch
        {
            "CONTROL_SEQUENCE_START" => SequenceControlKind.Start,
            "CONTROL_SEQUENCE_END" => SequenceControlKind.End,
            "CONTROL_SEQUENCE_READY" => SequenceControlKind.Ready,
            "CONTROL_SEQUENCE_CORRID" => SequenceControlKind.CorrelationId,
            var other => Unknown(other),
        };
        if (kind is null)
        {
            return null;
        }

        if (kind == SequenceControlKind.CorrelationId)
        {
            var typeName = String(control, "data_type", errors, where);
            if (typeName is null || !DataTypes.TryParse(typeName, out var type) || type is not (DataType.UInt64 or DataType.Int64 or DataType.UInt32 or DataType.Int32 or DataType.Bytes))
            {
                errors.Add($"'{where}.data_type' of CONTROL_SEQUENCE_CORRID '{name}' must be TYPE_UINT64, TYPE_INT64, TYPE_UINT32, TYPE_INT32 or TYPE_STRING");
                return null;
            }

            return new SequenceControl(name, kind.Value, type);
        }

        var forms = new List<SequenceControl>();
        if (Pair(control, "int32_false_true", where, errors) is { } ints)
        {
            forms.Add(new SequenceControl(name, kind.Value, DataType.Int32, ints.False, ints.True));
        }

        if (Pair(control, "fp32_false_true", where, errors) is { } floats)
        {
            forms.Add(new SequenceControl(name, kind.Value, DataType.Fp32, floats.False, floats.True));
        }

        if (Pair(control, "bool_false_true", where, errors) is { } bools)
        {
            forms.Add(new SequenceControl(name, kind.Value, DataType.Bool, bools.False, bools.True));
        }

        if (forms.Count != 1)
        {
            errors.Add($"'{where}' ('{name}') must give exactly one of int32_false_true, fp32_false_true, bool_false_true");
            return null;
        }

        return forms[0];

        SequenceControlKind? Unknown(string? written)
        {
            errors.Add($"'{where}.kind' '{written}' is not one of CONTROL_SEQUENCE_START, CONTROL_SEQUENCE_END, CONTROL_SEQUENCE_READY, CONTROL_SEQUENCE_CORRID");
            return null;
        }
    }

    /// <summary>A <c>*_false_true</c> array: two numbers (or two booleans), false first.</summary>
    private static (double False, double True)? Pair(JsonElement control, string property, string where, List<string> errors)
    {
        if (!control.TryGetProperty(property, out var array))
        {
            return null;
        }

        var values = array.ValueKind == JsonValueKind.Array ? array.EnumerateArray().Select(Number).ToList() : [];
        if (values.Count != 2 || values.Any(value => value is null))
        {
            errors.Add($"'{where}.{property}' must hold two values: false, then true");
            return null;
        }

        return (values[0]!.Value, values[1]!.Value);

        static double? Number(JsonElement value) => value.ValueKind switch
        {
            JsonValueKind.Number => value.GetDouble(),
            JsonValueKind.True => 1,
            JsonValueKind.False => 0,
            _ => null,
        };
    }

    private static List<SequenceState> States(JsonElement section, List<string> errors, Dictionary<int, string> initialFiles)
    {
        var states = new List<SequenceState>();
        foreach (var (state, where) in Items(section, "state", errors))
        {
            var input = String(state, "input_name", errors, where);
            var output = String(state, "output_name", errors, where);
            var typeName = String(state, "data_type", errors, where);
            var dims = Longs(state, "dims", errors, where);
            if (string.IsNullOrEmpty(input) || string.IsNullOrEmpty(output) || typeName is null || dims is null)
            {
                errors.Add($"'{where}' needs 'input_name', 'output_name', 'data_type' and 'dims'");
                continue;
            }

            if (!DataTypes.TryParse(typeName, out var type))
            {
                errors.Add($"'{where}.data_type' '{typeName}' is not a data type");
                continue;
            }

            var initial = Items(state, "initial_state", errors, where).ToList();
            if (initial.Count > 1)
            {
                errors.Add($"'{where}' may have one 'initial_state', got {initial.Count}");
            }
            else if (initial.Count == 1 && InitialFile(initial[0].Item, initial[0].Where, type, dims, errors) is { } file)
            {
                initialFiles[states.Count] = file;
            }

            states.Add(new SequenceState(input, output, type, dims));
        }

        return states;
    }

    /// <summary>An initial state: zeros (<c>zero_data</c>, the default) or a file's raw bytes; its type and dims must be the state's.</summary>
    private static string? InitialFile(JsonElement initial, string where, DataType type, long[] dims, List<string> errors)
    {
        if (String(initial, "data_type", errors, where) is { } typeName && (!DataTypes.TryParse(typeName, out var written) || written != type))
        {
            errors.Add($"'{where}.data_type' must be the state's data type, {type.ToWireName()}");
        }

        if (Longs(initial, "dims", errors, where) is { } written2 && !written2.AsSpan().SequenceEqual(dims))
        {
            errors.Add($"'{where}.dims' must be the state's dims, {Shapes.Format(dims)}");
        }

        var file = String(initial, "data_file", errors, where);
        if (file is not null && Bool(initial, "zero_data", errors, where) == true)
        {
            errors.Add($"'{where}' names both 'zero_data' and 'data_file'; choose one");
        }

        return file;
    }

    /// <summary>The objects of an array property, each with where it is for error messages; problems are recorded.</summary>
    private static IEnumerable<(JsonElement Item, string Where)> Items(JsonElement parent, string property, List<string> errors, string where = Where)
    {
        if (!parent.TryGetProperty(property, out var array))
        {
            yield break;
        }

        if (array.ValueKind != JsonValueKind.Array)
        {
            errors.Add($"'{where}.{property}' must be an array");
            yield break;
        }

        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            var at = $"{where}.{property}[{index++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                errors.Add($"'{at}' must be an object");
                continue;
            }

            yield return (item, at);
        }
    }
}
