namespace Turbine.Onnx;

/// <summary>The ONNX Runtime backend: inspects <c>model.onnx</c> files and creates sessions for them.</summary>
public sealed class OnnxBackend : IModelBackend
{
    /// <inheritdoc />
    public string Name => "onnxruntime";

    /// <inheritdoc />
    public string DefaultModelFileName => "model.onnx";

    /// <inheritdoc />
    public ModelSignature Inspect(string modelPath) => OnnxModelInspector.Inspect(modelPath);

    /// <inheritdoc />
    public IModelInstance CreateInstance(string modelPath, ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var settings = config.OnnxRuntime with { IntraOpThreads = IntraOpThreads(config, Environment.ProcessorCount) };
        return new OnnxModelInstance(OnnxSessionFactory.Create(modelPath, settings), config);
    }

    /// <summary>
    /// Intra-op threads per session: as configured, or, when left to the default with several instances, the cores
    /// shared out between them, so that instances x threads do not oversubscribe the machine.
    /// </summary>
    public static int IntraOpThreads(ModelConfig config, int cores)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.OnnxRuntime.IntraOpThreads > 0 || config.InstanceCount <= 1
            ? config.OnnxRuntime.IntraOpThreads
            : Math.Max(1, cores / config.InstanceCount);
    }
}
