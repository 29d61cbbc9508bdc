using Turbine.Core.Repository;
using Turbine.Onnx;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.Core.Tests;

/// <summary>
/// GPU execution options mapped from the configuration (no GPU runs where Turbine is built: these check the mapping, and
/// bench/gpu/device-check.sh runs the models on a GPU machine): Triton's instance placement on <c>gpus</c>, the CUDA and
/// TensorRT options of the <c>onnxruntime</c> section, and Triton's <c>optimization.execution_accelerators</c>.
/// </summary>
public sealed class GpuExecutionOptionsTests : IDisposable
{
    private readonly TestRepository _files = new();

    public void Dispose() => _files.Dispose();

    /// <summary>The ONNX backend as a GPU build has it: only <see cref="IModelBackend.HasGpu"/> differs.</summary>
    private sealed class GpuBuild : IModelBackend
    {
        private readonly OnnxBackend _onnx = new();

        public string Name => _onnx.Name;

        public string DefaultModelFileName => _onnx.DefaultModelFileName;

        public bool HasGpu => true;

        public IReadOnlyList<string> Platforms => _onnx.Platforms;

        public IReadOnlyList<string> HonouredFields => _onnx.HonouredFields;

        public BackendSettings ReadSettings(System.Text.Json.JsonElement? section, List<string> errors) => _onnx.ReadSettings(section, errors);

        public BackendSettings ReadSettings(System.Text.Json.JsonElement root, System.Text.Json.JsonElement? section, List<string> errors) => _onnx.ReadSettings(root, section, errors);

        public ModelSignature Inspect(string modelPath) => _onnx.Inspect(modelPath);

        public IModelInstance CreateInstance(string modelPath, ModelConfig config) => throw new NotSupportedException("no GPU here");
    }

    private ModelDefinition Read(string config, string file = "config.json")
    {
        _files.Add("m", SampleModels.AddSub(DataType.Fp32, 4));
        File.WriteAllText(Path.Combine(_files.Root, "m", file), config);
        return new ModelRepository(_files.Root).Read("m", BackendRegistry.Of(new GpuBuild()));
    }

    [Fact]
    public void Instances_of_a_gpu_group_are_placed_count_on_each_listed_device_and_run_cuda_there()
    {
        var definition = Read("""{"instance_group": [{"kind": "KIND_GPU", "count": 2, "gpus": [0, 1]}, {"kind": "KIND_CPU", "count": 1}]}""");

        Assert.Empty(definition.Errors);
        var config = definition.Config!;
        Assert.Equal(5, config.InstanceCount);
        Assert.Equal([0, 0, 1, 1, -1], config.InstanceDevices);

        var onSecond = OnnxBackend.InstanceSettings(config, 2, out var device);
        Assert.Equal(1, device);
        Assert.Equal(["cuda", "cpu"], onSecond.ExecutionProviders);
        Assert.Equal("1", ExecutionProviderOptions.Cuda(onSecond, device)["device_id"]);
        var onCpu = OnnxBackend.InstanceSettings(config, 4, out var none);
        Assert.Equal(-1, none);
        Assert.Equal(["cpu"], onCpu.ExecutionProviders);
    }

    [Fact]
    public void The_sections_options_reach_their_providers()
    {
        var definition = Read("""
            {"instance_group": [{"kind": "KIND_GPU", "gpus": [3]}],
             "onnxruntime": {"execution_providers": ["tensorrt", "cuda"],
               "cuda": {"cudnn_conv_algo_search": "HEURISTIC", "gpu_mem_limit": 2147483648, "use_tf32": false},
               "tensorrt": {"trt_fp16_enable": true, "trt_engine_cache_enable": "1", "trt_engine_cache_path": "/var/cache/trt"}}}
            """);

        Assert.Empty(definition.Errors);
        var settings = OnnxBackend.InstanceSettings(definition.Config!, 0, out var device);
        Assert.Equal(["tensorrt", "cuda"], settings.ExecutionProviders);
        Assert.Equal(
            new Dictionary<string, string> { ["cudnn_conv_algo_search"] = "HEURISTIC", ["gpu_mem_limit"] = "2147483648", ["use_tf32"] = "0", ["device_id"] = "3" },
            ExecutionProviderOptions.Cuda(settings, device));
        Assert.Equal(
            new Dictionary<string, string> { ["trt_fp16_enable"] = "1", ["trt_engine_cache_enable"] = "1", ["trt_engine_cache_path"] = "/var/cache/trt", ["device_id"] = "3" },
            ExecutionProviderOptions.TensorRt(settings, device));
    }

    [Fact]
    public void Tritons_execution_accelerators_in_config_pbtxt_choose_tensorrt_with_cuda_behind_it()
    {
        var definition = Read("""
            platform: "onnxruntime_onnx"
            instance_group [ { kind: KIND_GPU } ]
            optimization { execution_accelerators {
              gpu_execution_accelerator : [ {
                name : "tensorrt"
                parameters { key: "precision_mode" value: "FP16" }
                parameters { key: "max_workspace_size_bytes" value: "1073741824" }
                parameters { key: "trt_engine_cache_enable" value: "true" }
                parameters { key: "trt_engine_cache_path" value: "/cache/engines" }
              } ]
            }}
            """, "config.pbtxt");

        Assert.Empty(definition.Errors);
        Assert.DoesNotContain(definition.Unsupported ?? [], f => f.StartsWith("optimization", StringComparison.Ordinal));
        var settings = OnnxBackend.InstanceSettings(definition.Config!, 0, out var device);
        Assert.Equal(["tensorrt", "cuda", "cpu"], settings.ExecutionProviders);
        Assert.Equal(
            new Dictionary<string, string> { ["trt_fp16_enable"] = "1", ["trt_max_workspace_size"] = "1073741824", ["trt_engine_cache_enable"] = "1", ["trt_engine_cache_path"] = "/cache/engines", ["device_id"] = "0" },
            ExecutionProviderOptions.TensorRt(settings, device));
    }

    [Fact]
    public void Options_that_would_misplace_a_model_load_native_code_or_misspell_a_name_are_refused_with_every_reason()
    {
        var definition = Read("""
            {"instance_group": [{"kind": "KIND_CPU", "gpus": [0]}],
             "onnxruntime": {"cuda": {"device_id": 1, "cudnn_conv_algo_serach": "1"}, "tensorrt": {"trt_extra_plugin_lib_paths": "/tmp/evil.so", "trt_timing_cache_path": "cache"}},
             "optimization": {"graph": {"level": 1}, "execution_accelerators": {"gpu_execution_accelerator": [{"name": "tensorrt", "parameters": {"precision_mode": "FP8"}}, {"name": "openvino"}]}}}
            """);

        var errors = string.Join("\n", definition.Errors);
        Assert.Contains("'instance_group[0].gpus' must list device numbers", errors, StringComparison.Ordinal);
        Assert.Contains("'onnxruntime.cuda.device_id': an instance's device comes from its instance group's 'gpus'", errors, StringComparison.Ordinal);
        Assert.Contains("'onnxruntime.cuda.cudnn_conv_algo_serach' is not an option", errors, StringComparison.Ordinal);
        Assert.Contains("trt_extra_plugin_lib_paths' is refused", errors, StringComparison.Ordinal);
        Assert.Contains("'onnxruntime.tensorrt.trt_timing_cache_path' must be an absolute path", errors, StringComparison.Ordinal);
        Assert.Contains("precision_mode' 'FP8' is not one of FP32, FP16, INT8", errors, StringComparison.Ordinal);
        Assert.Contains("'openvino' is not one of tensorrt, cuda", errors, StringComparison.Ordinal); // a GPU accelerator of another name
        Assert.Contains("optimization.graph", definition.Unsupported ?? []); // the rest of optimization is still reported as ignored
    }
}
