using System.Text.Json;
using Turbine.Onnx.Scanning;

namespace Turbine.Onnx;

/// <summary>
/// The ONNX Runtime backend: scans and inspects <c>model.onnx</c> files and creates sessions for them.
/// </summary>
/// <param name="scanPolicy">The limits of the security scan run before every session (the defaults when null).</param>
public sealed class OnnxBackend(ModelScanPolicy? scanPolicy = null) : IModelBackend, IDecoderBackend
{
    private readonly ModelScanPolicy _scanPolicy = scanPolicy ?? new ModelScanPolicy();

    /// <summary>The name model configurations select this backend by.</summary>
    public const string BackendName = "onnxruntime";

    /// <inheritdoc />
    public string Name => BackendName;

    /// <inheritdoc />
    public IReadOnlyList<string> Platforms { get; } = ["onnxruntime_onnx"];

    /// <inheritdoc />
    public string DefaultModelFileName => "model.onnx";

    /// <inheritdoc />
    /// <remarks>Asked only when a configuration wants a GPU: the environment is made with the thread budget's pools first.</remarks>
    public bool HasGpu
    {
        get
        {
            OnnxThreadBudget.EnsureEnvironment();
            return Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetAvailableProviders().Contains("CUDAExecutionProvider");
        }
    }

    /// <inheritdoc />
    public BackendSettings ReadSettings(JsonElement? section, List<string> errors) => OnnxRuntimeSettings.Read(section, errors);

    /// <inheritdoc />
    /// <remarks>Triton's <c>optimization.execution_accelerators</c> choose and tune the GPU providers.</remarks>
    public BackendSettings ReadSettings(JsonElement root, JsonElement? section, List<string> errors) => OnnxRuntimeSettings.Read(root, section, errors);

    /// <inheritdoc />
    public IReadOnlyList<string> HonouredFields { get; } = ["optimization.execution_accelerators.gpu_execution_accelerator"];

    /// <inheritdoc />
    public ModelSignature Inspect(string modelPath) => OnnxModelInspector.Inspect(modelPath, _scanPolicy);

    /// <inheritdoc />
    public IModelInstance CreateInstance(string modelPath, ModelConfig config) => CreateInstance(modelPath, config, 0);

    /// <inheritdoc />
    /// <remarks>An instance of a <c>KIND_GPU</c> group runs on its group's device, with CUDA when no GPU provider was named.</remarks>
    public IModelInstance CreateInstance(string modelPath, ModelConfig config, int instance)
    {
        ArgumentNullException.ThrowIfNull(config);
        var settings = InstanceSettings(config, instance, out var device);
        return new OnnxModelInstance(OnnxSessionFactory.Create(modelPath, settings, device), config);
    }

    /// <summary>The settings and device of one instance: its group's GPU (CUDA unless a GPU provider is named), or none.</summary>
    public static OnnxRuntimeSettings InstanceSettings(ModelConfig config, int instance, out int device)
    {
        ArgumentNullException.ThrowIfNull(config);
        var settings = OnnxRuntimeSettings.Of(config);
        device = instance >= 0 && instance < config.InstanceDevices.Count ? config.InstanceDevices[instance] : -1;
        if (device >= 0 && !settings.UsesGpu)
        {
            settings = settings with { ExecutionProviders = ["cuda", .. settings.ExecutionProviders] };
        }

        if (!OnnxThreadBudget.Covers(settings))
        {
            settings = settings with { IntraOpThreads = IntraOpThreads(config, Environment.ProcessorCount) };
        }

        return settings;
    }

    /// <inheritdoc />
    /// <remarks>Scanned like every model before its session is made.</remarks>
    public IDecoderInstance CreateDecoder(string modelPath, DecoderTensorNames names)
    {
        Inspect(modelPath);
        return OnnxDecoderInstance.Load(modelPath, names: names);
    }

    /// <summary>
    /// Intra-op threads of a session outside the process's budget (<see cref="OnnxThreadBudget"/>): as configured, or,
    /// when left to the default with several instances, the cores shared out between them.
    /// </summary>
    public static int IntraOpThreads(ModelConfig config, int cores)
    {
        ArgumentNullException.ThrowIfNull(config);
        var configured = OnnxRuntimeSettings.Of(config).IntraOpThreads;
        return configured > 0 || config.InstanceCount <= 1 ? configured : Math.Max(1, cores / config.InstanceCount);
    }
}
