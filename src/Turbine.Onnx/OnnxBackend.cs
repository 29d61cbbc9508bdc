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
        return new OnnxModelInstance(OnnxSessionFactory.Create(modelPath, config.OnnxRuntime), config);
    }
}
