namespace Turbine;

/// <summary>A model runtime (ONNX Runtime, ...): inspects model files and creates instances that run them.</summary>
public interface IModelBackend
{
    /// <summary>The backend name used in model configurations, e.g. <c>onnxruntime</c>.</summary>
    string Name { get; }

    /// <summary>The file a version folder must hold, e.g. <c>model.onnx</c>.</summary>
    string DefaultModelFileName { get; }

    /// <summary>Reads the model file's declared inputs and outputs and checks it is safe to load.</summary>
    /// <exception cref="InferenceException">The file is unreadable, corrupt or unsafe.</exception>
    ModelSignature Inspect(string modelPath);

    /// <summary>Creates one instance of the model (e.g. one session). Expensive: called at load, never per request.</summary>
    /// <exception cref="InferenceException">The model cannot be loaded with this configuration.</exception>
    IModelInstance CreateInstance(string modelPath, ModelConfig config);
}

/// <summary>One loaded copy of a model. Not thread-safe: one worker loop drives it.</summary>
public interface IModelInstance : IDisposable
{
    /// <summary>Runs the model on <paramref name="inputs"/> and appends the <paramref name="outputs"/> asked for to <paramref name="results"/>.</summary>
    /// <returns>null on success, else the error.</returns>
    InferenceError? Run(IReadOnlyList<Tensor> inputs, IReadOnlyList<TensorConfig> outputs, List<Tensor> results);
}
