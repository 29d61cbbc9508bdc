using System.Text.Json;
using Turbine.Core.Execution;

namespace Turbine.Llm.Serving;

/// <summary>
/// The backend of generative models: a decoder of the Optimum layout run by the generation engine, with its tokenizer.
/// A model folder whose configuration names no backend is claimed when a version holds <c>tokenizer.json</c> beside
/// its model file, so an exported model serves without configuration; <c>"backend": "llm"</c> selects it explicitly.
/// The runtime (ONNX Runtime) stays behind <see cref="IDecoderBackend"/>.
/// </summary>
/// <param name="runtime">The backend that inspects the model file and creates the decoder.</param>
public sealed class LlmBackend(IDecoderBackend runtime) : IModelBackend, IVersionRunnerFactory
{
    /// <summary>The name model configurations select this backend by, and the name of its settings section.</summary>
    public const string BackendName = "llm";

    private const string TokenizerFile = "tokenizer.json";

    private readonly IModelBackend _inspector = runtime as IModelBackend
        ?? throw new ArgumentException("the decoder backend must also be a model backend, to inspect and scan model files", nameof(runtime));

    /// <inheritdoc />
    public string Name => BackendName;

    /// <inheritdoc />
    public string DefaultModelFileName => _inspector.DefaultModelFileName;

    /// <inheritdoc />
    public bool Claims(string modelFolder)
    {
        if (!Directory.Exists(modelFolder))
        {
            return false;
        }

        foreach (var version in Directory.EnumerateDirectories(modelFolder))
        {
            if (Path.GetFileName(version).All(char.IsAsciiDigit) &&
                File.Exists(Path.Combine(version, TokenizerFile)) && File.Exists(Path.Combine(version, DefaultModelFileName)))
            {
                return true;
            }
        }

        return false;
    }

    /// <inheritdoc />
    public BackendSettings ReadSettings(JsonElement? section, List<string> errors) => LlmSettings.Read(section, errors);

    /// <inheritdoc />
    /// <remarks>
    /// The model file is scanned; what clients see is text in, text out. Whether it is a decoder with the configured
    /// tensor names is checked when it loads (the names come with the configuration, which inspection does not see).
    /// </remarks>
    public ModelSignature Inspect(string modelPath) => KServeGeneration.Signature with { Warnings = _inspector.Inspect(modelPath).Warnings };

    /// <inheritdoc />
    public IModelInstance CreateInstance(string modelPath, ModelConfig config) =>
        throw new InferenceException("a generative model runs in its generation engine, not as instances"); // never asked: the loader asks CreateRunner

    /// <inheritdoc />
    public IVersionRunner CreateRunner(VersionLoadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var decoder = runtime.CreateDecoder(context.ModelPath, LlmSettings.Of(context.Config).Tensors);
        try
        {
            var model = GenerativeModel.Load(context.Config, context.Version, Path.GetDirectoryName(context.ModelPath)!, decoder, context.Time);
            return new GenerationRunner(model, context);
        }
        catch
        {
            decoder.Dispose();
            throw;
        }
    }
}
