using System.Globalization;
using System.Text.Json;

namespace Turbine.Onnx;

/// <summary>ONNX Runtime session settings: the <c>onnxruntime</c> section of a model configuration. Defaults are the fast ones (DESIGN.md section 2).</summary>
public sealed record OnnxRuntimeSettings : BackendSettings
{
    private const string Section = "onnxruntime";
    private static readonly string[] OptimizationLevels = ["disabled", "none", "basic", "extended", "layout", "all"];
    private static readonly string[] Providers = ["cpu", "cuda", "tensorrt"];

    /// <summary>The settings of a configuration without an <c>onnxruntime</c> section.</summary>
    public static OnnxRuntimeSettings Default { get; } = new();

    /// <summary>Graph optimization level: disabled, basic, extended, layout or all.</summary>
    public string GraphOptimizationLevel { get; init; } = "all";

    /// <summary>Threads inside one operator; 0 lets Turbine share the cores out.</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Threads across operators; 0 lets ONNX Runtime decide.</summary>
    public int InterOpThreads { get; init; }

    /// <summary>Whether idle intra-op threads spin; off by default because spinning starves the web server.</summary>
    public bool AllowSpinning { get; init; }

    /// <summary>
    /// Whether the CPU provider keeps freed memory in its arena for the next run (fast, but a session holds its
    /// largest run's memory for good); off returns it to the system after each run.
    /// </summary>
    public bool EnableCpuMemArena { get; init; } = true;

    /// <summary>Whether ONNX Runtime plans one block for a run's intermediate tensors from the first run's shapes.</summary>
    public bool EnableMemPattern { get; init; } = true;

    /// <summary>Execution providers in priority order: cpu, cuda, tensorrt. CPU is always appended last.</summary>
    public IReadOnlyList<string> ExecutionProviders { get; init; } = ["cpu"];

    /// <inheritdoc />
    public override string InstanceKind => ExecutionProviders.Any(p => p is "cuda" or "tensorrt") ? "KIND_GPU" : "KIND_CPU";

    /// <summary>The settings of a model configuration (the defaults when it was read by another backend).</summary>
    public static OnnxRuntimeSettings Of(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.Settings as OnnxRuntimeSettings ?? Default;
    }

    /// <summary>Reads and validates the <c>onnxruntime</c> section; every problem goes to <paramref name="errors"/>.</summary>
    public static OnnxRuntimeSettings Read(JsonElement? section, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (section is not { } value)
        {
            return Default;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add("'onnxruntime' must be an object");
            return Default;
        }

        var settings = new OnnxRuntimeSettings
        {
            GraphOptimizationLevel = ConfigJson.String(value, "graph_optimization_level", errors, Section) ?? Default.GraphOptimizationLevel,
            IntraOpThreads = ConfigJson.Int(value, "intra_op_threads", errors, Section) ?? 0,
            InterOpThreads = ConfigJson.Int(value, "inter_op_threads", errors, Section) ?? 0,
            AllowSpinning = ConfigJson.Bool(value, "allow_spinning", errors, Section) ?? false,
            EnableCpuMemArena = ConfigJson.Bool(value, "enable_cpu_mem_arena", errors, Section) ?? true,
            EnableMemPattern = ConfigJson.Bool(value, "enable_mem_pattern", errors, Section) ?? true,
            ExecutionProviders = ReadProviders(value, errors),
        };
        settings.Validate(errors);
        return settings;
    }

    /// <inheritdoc />
    public override IReadOnlyList<KeyValuePair<string, string>> Parameters() =>
    [
        new("graph_optimization_level", GraphOptimizationLevel),
        new("intra_op_thread_count", IntraOpThreads.ToString(CultureInfo.InvariantCulture)),
        new("inter_op_thread_count", InterOpThreads.ToString(CultureInfo.InvariantCulture)),
        new("execution_providers", string.Join(",", ExecutionProviders)),
        new("enable_mem_arena", EnableCpuMemArena ? "1" : "0"),
        new("enable_mem_pattern", EnableMemPattern ? "1" : "0"),
    ];

    /// <inheritdoc />
    public override void WriteProperties(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteString("graph_optimization_level"u8, GraphOptimizationLevel);
        writer.WriteNumber("intra_op_threads"u8, IntraOpThreads);
        writer.WriteNumber("inter_op_threads"u8, InterOpThreads);
        writer.WriteBoolean("allow_spinning"u8, AllowSpinning);
        writer.WriteBoolean("enable_cpu_mem_arena"u8, EnableCpuMemArena);
        writer.WriteBoolean("enable_mem_pattern"u8, EnableMemPattern);
        writer.WriteStartArray("execution_providers"u8);
        foreach (var provider in ExecutionProviders)
        {
            writer.WriteStringValue(provider);
        }

        writer.WriteEndArray();
    }

    private static List<string> ReadProviders(JsonElement section, List<string> errors)
    {
        var names = new List<string>();
        if (!section.TryGetProperty("execution_providers", out var list))
        {
            names.Add("cpu");
            return names;
        }

        if (list.ValueKind != JsonValueKind.Array)
        {
            errors.Add("'onnxruntime.execution_providers' must be an array of names");
            return names;
        }

        foreach (var item in list.EnumerateArray())
        {
            names.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : "?");
        }

        return names;
    }

    private void Validate(List<string> errors)
    {
        if (!OptimizationLevels.Contains(GraphOptimizationLevel.ToLowerInvariant()))
        {
            errors.Add($"'onnxruntime.graph_optimization_level' '{GraphOptimizationLevel}' is not one of disabled, basic, extended, layout, all");
        }

        if (IntraOpThreads < 0 || InterOpThreads < 0)
        {
            errors.Add("'onnxruntime' thread counts must be >= 0 (0 lets ONNX Runtime decide)");
        }

        foreach (var provider in ExecutionProviders)
        {
            if (!Providers.Contains(provider.ToLowerInvariant()))
            {
                errors.Add($"'onnxruntime.execution_providers' has '{provider}'; expected cpu, cuda or tensorrt");
            }
        }
    }
}
