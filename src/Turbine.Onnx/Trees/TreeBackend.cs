using System.Text.Json;

namespace Turbine.Onnx.Trees;

/// <summary>
/// Tree ensembles as Triton's FIL backend serves them (<c>"backend": "fil"</c>): a LightGBM text model
/// (<c>model.txt</c>, the default file) or an XGBoost JSON model (<c>default_model_filename: "xgboost.json"</c>) is read
/// into a <see cref="TreeEnsemble"/>, written as an ONNX-ML graph and run by ONNX Runtime like any ONNX model, with the
/// same batching, versions and routes. Input <c>input__0</c> [batch, features], output <c>output__0</c>: the
/// prediction, or a classifier's probabilities per class.
/// </summary>
public sealed class TreeBackend : IModelBackend
{
    public const string BackendName = "fil";

    /// <summary>The largest model file read (256 MiB): a forest of thousands of deep trees stays well under it.</summary>
    public const long MaxModelBytes = 256L << 20;

    /// <inheritdoc />
    public string Name => BackendName;

    /// <inheritdoc />
    public string DefaultModelFileName => "model.txt";

    /// <inheritdoc />
    /// <remarks>A folder with no configuration is a LightGBM model when a version holds a <c>model.txt</c> that starts as one.</remarks>
    public bool Claims(string modelFolder) =>
        Directory.Exists(modelFolder) && Directory.EnumerateDirectories(modelFolder).Any(version =>
            File.Exists(Path.Combine(version, DefaultModelFileName)) && StartsWith(Path.Combine(version, DefaultModelFileName), "tree"));

    /// <inheritdoc />
    public BackendSettings ReadSettings(JsonElement? section, List<string> errors) => TreeSettings.Read(section, errors);

    /// <inheritdoc />
    public ModelSignature Inspect(string modelPath)
    {
        var ensemble = Read(modelPath, modelType: null);
        return new ModelSignature(
            [new TensorSignature(TreeEnsembleOnnx.InputName, DataType.Fp32, [-1, ensemble.Features])],
            [new TensorSignature(TreeEnsembleOnnx.OutputName, DataType.Fp32, [-1, ensemble.OutputWidth])]);
    }

    /// <inheritdoc />
    public IModelInstance CreateInstance(string modelPath, ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var ensemble = Read(modelPath, TreeSettings.Of(config).ModelType);
        var settings = OnnxRuntimeSettings.Default;
        if (!OnnxThreadBudget.Covers(settings))
        {
            settings = settings with { IntraOpThreads = OnnxBackend.IntraOpThreads(config, Environment.ProcessorCount) };
        }

        return new OnnxModelInstance(OnnxSessionFactory.Create(TreeEnsembleOnnx.Write(ensemble), settings), config);
    }

    /// <summary>Reads the model file as the configured type, or as its first character says.</summary>
    public static TreeEnsemble Read(string modelPath, string? modelType)
    {
        var file = new FileInfo(modelPath);
        if (!file.Exists)
        {
            throw new InferenceException($"the tree model file '{file.Name}' is missing");
        }

        if (file.Length > MaxModelBytes)
        {
            throw new InferenceException($"the tree model file is {file.Length} bytes; at most {MaxModelBytes} are read");
        }

        var text = File.ReadAllText(modelPath);
        var type = modelType ?? (text.TrimStart().StartsWith('{') ? TreeSettings.XgboostJson : TreeSettings.LightGbm);
        return type == TreeSettings.XgboostJson ? XgboostJson.Parse(text) : LightGbmText.Parse(text);
    }

    private static bool StartsWith(string path, string prefix)
    {
        using var reader = new StreamReader(path);
        var buffer = new char[prefix.Length];
        return reader.ReadBlock(buffer) == prefix.Length && new string(buffer) == prefix;
    }
}
