namespace Turbine;

/// <summary>
/// A model file sent in a load request (Triton's <c>file:&lt;path&gt;</c> load parameters): its path inside the model's
/// folder (<c>1/model.onnx</c>, <c>labels.txt</c>) and its bytes.
/// </summary>
public sealed record ModelFileUpload(string Path, ReadOnlyMemory<byte> Content);
