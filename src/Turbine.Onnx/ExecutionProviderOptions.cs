using System.Globalization;
using System.Text.Json;

namespace Turbine.Onnx;

/// <summary>
/// The options of the CUDA and TensorRT execution providers: read from the <c>onnxruntime.cuda</c> and
/// <c>onnxruntime.tensorrt</c> sections (ONNX Runtime's own option names) or from Triton's
/// <c>optimization.execution_accelerators</c> (Triton's names mapped to ONNX Runtime's, as Triton's ONNX Runtime backend
/// maps them), each checked against the options ONNX Runtime knows; the device comes from the instance's group.
/// </summary>
public static class ExecutionProviderOptions
{
    private static readonly HashSet<string> CudaKeys =
    [
        "gpu_mem_limit", "arena_extend_strategy", "cudnn_conv_algo_search", "do_copy_in_default_stream", "cudnn_conv_use_max_workspace",
        "cudnn_conv1d_pad_to_nc1d", "enable_cuda_graph", "enable_skip_layer_norm_strict_mode", "use_tf32", "prefer_nhwc",
        "use_ep_level_unified_stream", "tunable_op_enable", "tunable_op_tuning_enable", "tunable_op_max_tuning_duration_ms", "sdpa_kernel", "fuse_conv_bias",
    ];

    private static readonly HashSet<string> TensorRtKeys =
    [
        "trt_max_workspace_size", "trt_max_partition_iterations", "trt_min_subgraph_size", "trt_fp16_enable", "trt_bf16_enable", "trt_int8_enable",
        "trt_int8_calibration_table_name", "trt_int8_use_native_calibration_table", "trt_dla_enable", "trt_dla_core", "trt_engine_cache_enable",
        "trt_engine_cache_path", "trt_engine_cache_prefix", "trt_dump_subgraphs", "trt_force_sequential_engine_build", "trt_context_memory_sharing_enable",
        "trt_layer_norm_fp32_fallback", "trt_timing_cache_enable", "trt_timing_cache_path", "trt_force_timing_cache", "trt_detailed_build_log",
        "trt_build_heuristics_enable", "trt_sparsity_enable", "trt_builder_optimization_level", "trt_auxiliary_streams", "trt_tactic_sources",
        "trt_profile_min_shapes", "trt_profile_max_shapes", "trt_profile_opt_shapes", "trt_cuda_graph_enable", "trt_dump_ep_context_model",
        "trt_ep_context_file_path", "trt_ep_context_embed_mode",
    ];

    private static readonly HashSet<string> Paths = ["trt_engine_cache_path", "trt_timing_cache_path", "trt_ep_context_file_path"];

    /// <summary>The CUDA provider's options for an instance on <paramref name="device"/>.</summary>
    public static Dictionary<string, string> Cuda(OnnxRuntimeSettings settings, int device)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return OnDevice(settings.CudaOptions, device);
    }

    /// <summary>The TensorRT provider's options for an instance on <paramref name="device"/>.</summary>
    public static Dictionary<string, string> TensorRt(OnnxRuntimeSettings settings, int device)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return OnDevice(settings.TensorRtOptions, device);
    }

    /// <summary>A section of ONNX Runtime's option names (<c>onnxruntime.cuda</c>, <c>onnxruntime.tensorrt</c>), checked.</summary>
    public static Dictionary<string, string> ReadSection(JsonElement section, string provider, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        var where = $"onnxruntime.{provider}";
        if (section.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"'{where}' must be an object of option names and values");
            return options;
        }

        foreach (var option in section.EnumerateObject())
        {
            if (Text(option.Value) is { } value)
            {
                Add(options, provider, option.Name, value, where, errors);
            }
            else
            {
                errors.Add($"'{where}.{option.Name}' must be a string, a number or a boolean");
            }
        }

        return options;
    }

    /// <summary>
    /// Triton's TensorRT accelerator parameters as ONNX Runtime's options: <c>precision_mode</c> FP16 or INT8 turns
    /// that precision on, <c>max_workspace_size_bytes</c> and the <c>int8_*</c> keys take their <c>trt_</c> names, the
    /// <c>trt_*</c> keys pass as they are.
    /// </summary>
    public static Dictionary<string, string> FromTritonTensorRt(IReadOnlyDictionary<string, string> parameters, string where, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in parameters)
        {
            switch (key)
            {
                case "precision_mode" when value.ToUpperInvariant() is "FP32":
                    break;
                case "precision_mode" when value.ToUpperInvariant() is "FP16":
                    options["trt_fp16_enable"] = "1";
                    break;
                case "precision_mode" when value.ToUpperInvariant() is "INT8":
                    options["trt_int8_enable"] = "1";
                    break;
                case "precision_mode":
                    errors.Add($"'{where}.precision_mode' '{value}' is not one of FP32, FP16, INT8");
                    break;
                case "max_workspace_size_bytes":
                    Add(options, "tensorrt", "trt_max_workspace_size", value, where, errors);
                    break;
                case "int8_calibration_table_name" or "int8_use_native_calibration_table":
                    Add(options, "tensorrt", "trt_" + key, value, where, errors);
                    break;
                default:
                    Add(options, "tensorrt", key, value, where, errors);
                    break;
            }
        }

        return options;
    }

    /// <summary>Triton's CUDA accelerator parameters: ONNX Runtime's own CUDA option names.</summary>
    public static Dictionary<string, string> FromTritonCuda(IReadOnlyDictionary<string, string> parameters, string where, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in parameters)
        {
            Add(options, "cuda", key, value, where, errors);
        }

        return options;
    }

    private static void Add(Dictionary<string, string> options, string provider, string key, string value, string where, List<string> errors)
    {
        var known = provider == "cuda" ? CudaKeys : TensorRtKeys;
        if (key == "device_id")
        {
            errors.Add($"'{where}.device_id': an instance's device comes from its instance group's 'gpus'");
        }
        else if (key == "trt_extra_plugin_lib_paths")
        {
            errors.Add($"'{where}.trt_extra_plugin_lib_paths' is refused: it would load native code named by a model's configuration");
        }
        else if (!known.Contains(key))
        {
            errors.Add($"'{where}.{key}' is not an option of ONNX Runtime's {provider} provider that Turbine passes on");
        }
        else if (Paths.Contains(key) && !Path.IsPathFullyQualified(value))
        {
            errors.Add($"'{where}.{key}' must be an absolute path (a cache the server's operator chose), got '{value}'");
        }
        else
        {
            options[key] = value switch { "true" or "True" => "1", "false" or "False" => "0", _ => value };
        }
    }

    private static string? Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "1",
        JsonValueKind.False => "0",
        _ => null,
    };

    private static Dictionary<string, string> OnDevice(IReadOnlyDictionary<string, string> options, int device) =>
        new(options, StringComparer.Ordinal) { ["device_id"] = Math.Max(0, device).ToString(CultureInfo.InvariantCulture) };
}
