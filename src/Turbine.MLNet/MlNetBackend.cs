namespace Turbine.MLNet;

/// <summary>
/// Saved ML.NET pipelines (<c>"backend": "mlnet"</c>, <c>model.zip</c> from <c>MLContext.Model.Save</c> with its input
/// schema): each input column the pipeline reads is an input tensor [batch, width] of its element type (text as
/// BYTES; a label column scoring never reads is no input), each column the pipeline adds is an output (a predicted
/// label as its text name). Served through the same queues,
/// batching, versions and routes as every model.
/// </summary>
public sealed class MlNetBackend : IModelBackend
{
    public const string BackendName = "mlnet";

    /// <inheritdoc />
    public string Name => BackendName;

    /// <inheritdoc />
    public string DefaultModelFileName => "model.zip";

    /// <inheritdoc />
    /// <remarks>A folder with no configuration is an ML.NET model when a version holds a <c>model.zip</c>.</remarks>
    public bool Claims(string modelFolder) =>
        Directory.Exists(modelFolder) && Directory.EnumerateDirectories(modelFolder).Any(version => File.Exists(Path.Combine(version, DefaultModelFileName)));

    /// <inheritdoc />
    public ModelSignature Inspect(string modelPath) => MlNetModel.Load(modelPath).Signature();

    /// <inheritdoc />
    public IModelInstance CreateInstance(string modelPath, ModelConfig config) => new MlNetModelInstance(MlNetModel.Load(modelPath));
}
