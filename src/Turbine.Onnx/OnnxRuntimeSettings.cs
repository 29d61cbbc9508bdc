using System.Globalization;
using System.Text.Json;

namespace Turbine.Onnx;

/// <summary>ONNX Runtime session settings: the <c>onnxruntime</c> section of a model configuration. Defaults are the fast ones (DESIGN.md section 2).</summary>
public sealed record OnnxRuntimeSettings : BackendSettings
{
    private const string Section = "onnxruntime";
    private static readonly string[] OptimizationLevels = ["disabled", "none", "basic", "extended", "layout", "all"];
    private static readonly string[] Providers = ["cpu", "cuda", "tensorrt", "xnnpack"];

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

    /// <summary>Execution providers in priority order: cpu, cuda, tensorrt, xnnpack. CPU is always appended last.</summary>
    public IReadOnlyList<string> ExecutionProviders { get; init; } = ["cpu"];

    /// <summary>Options of the CUDA provider, by ONNX Runtime's names (<c>onnxruntime.cuda</c>).</summary>
    public IReadOnlyDictionary<string, string> CudaOptions { get; init; } = new Dictionary<string, string>();

    /// <summary>Options of the TensorRT provider, by ONNX Runtime's names (<c>onnxruntime.tensorrt</c>).</summary>
    public IReadOnlyDictionary<string, string> TensorRtOptions { get; init; } = new Dictionary<string, string>();

    /// <summary>Whether any provider runs on a GPU.</summary>
    public bool UsesGpu => ExecutionProviders.Any(p => p is "cuda" or "tensorrt");

    /// <inheritdoc />
    public override string InstanceKind => UsesGpu ? "KIND_GPU" : "KIND_CPU";

    /// <summary>The settings of a model configuration (the defaults when it was read by another backend).</summary>
    public static OnnxRuntimeSettings Of(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.Settings as OnnxRuntimeSettings ?? Default;
    }

    /// <summary>Reads and validates the <c>onnxruntime</c> section; every problem goes to <paramref name="errors"/>.</summary>
    public static OnnxRuntimeSettings Read(JsonElement? section, List<string> errors)
    {
        if (!ConfigJson.TrySection(section, Section, errors, out var value))
        {
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
            CudaOptions = value.TryGetProperty("cuda", out var cuda) ? ExecutionProviderOptions.ReadSection(cuda, "cuda", errors) : new Dictionary<string, string>(),
            TensorRtOptions = value.TryGetProperty("tensorrt", out var tensorrt) ? ExecutionProviderOptions.ReadSection(tensorrt, "tensorrt", errors) : new Dictionary<string, string>(),
        };
        settings.Validate(errors);
        return settings;
    }

    /// <summary>
    /// The section's settings with Triton's <c>optimization.execution_accelerators</c> on top: each GPU accelerator
    /// (<c>tensorrt</c>, <c>cuda</c>) goes first among the providers, in its order, with its parameters as options.
    /// </summary>
    public static OnnxRuntimeSettings Read(JsonElement root, JsonElement? section, List<string> errors)
    {
        var settings = Read(section, errors);
        if (!root.TryGetProperty("optimization", out var optimization) || optimization.ValueKind != JsonValueKind.Object
            || !optimization.TryGetProperty("execution_accelerators", out var accelerators))
        {
            return settings;
        }

        // config.pbtxt's reader gives this single message as a one-element list.
        if (accelerators.ValueKind == JsonValueKind.Array && accelerators.GetArrayLength() == 1)
        {
            accelerators = accelerators[0];
        }

        if (accelerators.ValueKind != JsonValueKind.Object)
        {
            errors.Add("'optimization.execution_accelerators' must be an object");
            return settings;
        }

        // A CPU accelerator (OpenVINO) is not part of this build: the model runs on the CPU provider and the field is
        // named among the ignored ones.
        if (!accelerators.TryGetProperty("gpu_execution_accelerator", out var gpu) || gpu.ValueKind != JsonValueKind.Array)
        {
            return settings;
        }

        var providers = new List<string>();
        var cudaOptions = new Dictionary<string, string>(settings.CudaOptions, StringComparer.Ordinal);
        var tensorRtOptions = new Dictionary<string, string>(settings.TensorRtOptions, StringComparer.Ordinal);
        var index = 0;
        foreach (var accelerator in gpu.EnumerateArray())
        {
            var where = $"optimization.execution_accelerators.gpu_execution_accelerator[{index++}]";
            var name = accelerator.ValueKind == JsonValueKind.Object ? ConfigJson.String(accelerator, "name", errors, where) : null;
            var parameters = Parameters(accelerator, where, errors);
            switch (name)
            {
                case "tensorrt":
                    providers.Add("tensorrt");
                    foreach (var (key, value) in ExecutionProviderOptions.FromTritonTensorRt(parameters, where, errors))
                    {
                        tensorRtOptions[key] = value;
                    }

                    break;
                case "cuda":
                    providers.Add("cuda");
                    foreach (var (key, value) in ExecutionProviderOptions.FromTritonCuda(parameters, where, errors))
                    {
                        cudaOptions[key] = value;
                    }

                    break;
                default:
                    errors.Add($"'{where}.name' '{name}' is not one of tensorrt, cuda");
                    break;
            }
        }

        // TensorRT hands the nodes it cannot run to CUDA, as Triton's backend does.
        if (providers.Contains("tensorrt") && !providers.Contains("cuda"))
        {
            providers.Add("cuda");
        }

        return settings with
        {
            ExecutionProviders = [.. providers, .. settings.ExecutionProviders.Where(p => !providers.Contains(p))],
            CudaOptions = cudaOptions,
            TensorRtOptions = tensorRtOptions,
        };
    }

    /// <summary>An accelerator's <c>parameters</c>: a map of string values (numbers and booleans read as text).</summary>
    private static Dictionary<string, string> Parameters(JsonElement accelerator, string where, List<string> errors)
    {
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        if (accelerator.ValueKind != JsonValueKind.Object || !accelerator.TryGetProperty("parameters", out var map))
        {
            return parameters;
        }

        if (map.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"'{where}.parameters' must be a map of names to values");
            return parameters;
        }

        foreach (var parameter in map.EnumerateObject())
        {
            parameters[parameter.Name] = parameter.Value.ValueKind == JsonValueKind.String ? parameter.Value.GetString()! : parameter.Value.GetRawText();
        }

        return parameters;
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
        .. CudaOptions.Select(o => KeyValuePair.Create("cuda." + o.Key, o.Value)),
        .. TensorRtOptions.Select(o => KeyValuePair.Create("tensorrt." + o.Key, o.Value)),
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
        WriteOptions(writer, "cuda", CudaOptions);
        WriteOptions(writer, "tensorrt", TensorRtOptions);
    }

    private static void WriteOptions(Utf8JsonWriter writer, string name, IReadOnlyDictionary<string, string> options)
    {
        if (options.Count == 0)
        {
            return;
        }

        writer.WriteStartObject(name);
        foreach (var (key, value) in options)
        {
            writer.WriteString(key, value);
        }

        writer.WriteEndObject();
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
