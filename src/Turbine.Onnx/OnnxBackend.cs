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
    public ModelSignature Inspect(string modelPath) => OnnxModelInspector.Inspect(modelPath, _scanPolicy);

    /// <inheritdoc />
    public IModelInstance CreateInstance(string modelPath, ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var settings = OnnxRuntimeSettings.Of(config);
        if (!OnnxThreadBudget.Covers(settings))
        {
            settings = settings with { IntraOpThreads = IntraOpThreads(config, Environment.ProcessorCount) };
        }

        return new OnnxModelInstance(OnnxSessionFactory.Create(modelPath, settings), config);
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
