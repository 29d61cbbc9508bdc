using System.Text.Json;

namespace Turbine;

/// <summary>
/// A model runtime (ONNX Runtime, ...): inspects model files and creates instances that run them. Backends are
/// registered by <see cref="Name"/>, and a model configuration picks one with <c>backend</c> (or a Triton
/// <c>platform</c> the backend answers to).
/// </summary>
public interface IModelBackend
{
    /// <summary>The backend name used in model configurations, e.g. <c>onnxruntime</c>; also the name of its settings section.</summary>
    string Name { get; }

    /// <summary>Triton <c>platform</c> names that select this backend, e.g. <c>onnxruntime_onnx</c>.</summary>
    IReadOnlyList<string> Platforms => [];

    /// <summary>The file a version folder must hold, e.g. <c>model.onnx</c>.</summary>
    string DefaultModelFileName { get; }

    /// <summary>
    /// Whether a model folder whose configuration names no backend is this backend's to run, from what the folder
    /// holds (a generative model's tokenizer beside its model file); asked before the default backend is chosen.
    /// </summary>
    bool Claims(string modelFolder) => false;

    /// <summary>Whether this build of the backend can run models on a GPU (a <c>KIND_GPU</c> instance group needs it).</summary>
    bool HasGpu => false;

    /// <summary>
    /// Reads and validates this backend's configuration section (null when the configuration has none), adding
    /// every problem to <paramref name="errors"/>. A backend without settings refuses a section it would ignore.
    /// </summary>
    BackendSettings ReadSettings(JsonElement? section, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (section is not null)
        {
            errors.Add($"the '{Name}' backend takes no '{Name}' settings section");
        }

        return BackendSettings.None;
    }

    /// <summary>
    /// Reads this backend's settings with the whole configuration at hand, for a backend that also honours fields of
    /// Triton's outside its own section (<see cref="HonouredFields"/>); by default the section alone.
    /// </summary>
    BackendSettings ReadSettings(JsonElement root, JsonElement? section, List<string> errors) => ReadSettings(section, errors);

    /// <summary>Fields outside its own section that this backend reads, as dotted paths (<c>optimization.execution_accelerators</c>).</summary>
    IReadOnlyList<string> HonouredFields => [];

    /// <summary>Reads the model file's declared inputs and outputs and checks it is safe to load.</summary>
    /// <exception cref="InferenceException">The file is unreadable, corrupt or unsafe.</exception>
    ModelSignature Inspect(string modelPath);

    /// <summary>Creates one instance of the model (e.g. one session). Expensive: called at load, never per request.</summary>
    /// <exception cref="InferenceException">The model cannot be loaded with this configuration.</exception>
    IModelInstance CreateInstance(string modelPath, ModelConfig config);

    /// <summary>
    /// Creates instance <paramref name="instance"/> of the model: a backend that places instances (on the GPU that
    /// <see cref="ModelConfig.InstanceDevices"/> names for it) overrides this; the others create every instance alike.
    /// </summary>
    IModelInstance CreateInstance(string modelPath, ModelConfig config, int instance) => CreateInstance(modelPath, config);
}

/// <summary>One loaded copy of a model. Not thread-safe: one worker loop drives it.</summary>
public interface IModelInstance : IDisposable
{
    /// <summary>Runs the model on <paramref name="inputs"/> and appends the <paramref name="outputs"/> asked for to <paramref name="results"/>.</summary>
    /// <returns>null on success, else the error.</returns>
    InferenceError? Run(IReadOnlyList<Tensor> inputs, IReadOnlyList<TensorConfig> outputs, List<Tensor> results);

    /// <summary>
    /// Another handle on this loaded model for a run beside this one's: it shares the weights and keeps its own
    /// per-run state. Disposed before this instance. Null when the backend's runs cannot overlap.
    /// </summary>
    IModelInstance? CreateSibling() => null;
}
