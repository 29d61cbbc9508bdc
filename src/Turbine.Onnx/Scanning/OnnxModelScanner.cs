using Google.Protobuf;

namespace Turbine.Onnx.Scanning;

/// <summary>
/// The security scan of one model version: the model file (external data, operator domains, declared sizes, graph
/// size and nesting, control characters) and the other files of its version folder (pickles, executables,
/// archives, links). The server runs it before it creates a session; <c>turbine scan</c> runs it on a folder.
/// </summary>
public static class OnnxModelScanner
{
    /// <summary>Scans the model file at <paramref name="modelPath"/> and the rest of its version folder.</summary>
    /// <exception cref="IOException">The model file cannot be read.</exception>
    public static ModelScanReport Scan(string modelPath, ModelScanPolicy policy) => ScanWithOutline(modelPath, policy).Report;

    /// <summary>The scan, and the outline it read (null when the file is not a model) for inspection to go on with.</summary>
    internal static (ModelScanReport Report, OnnxModelOutline? Outline) ScanWithOutline(string modelPath, ModelScanPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var findings = new ScanFindings(policy);
        var versionFolder = Path.GetDirectoryName(Path.GetFullPath(modelPath))!;
        OnnxModelOutline? outline;
        try
        {
            outline = OnnxModelOutline.Read(modelPath);
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or InvalidDataException)
        {
            findings.Block(ScanFindingKinds.Unreadable, Path.GetFileName(modelPath), $"not a valid ONNX model: {e.Message}");
            outline = null;
        }

        if (outline is { HasGraph: false } or { Outputs.Count: 0 })
        {
            findings.Block(ScanFindingKinds.Unreadable, Path.GetFileName(modelPath), "not a valid ONNX model: it has no graph outputs");
        }

        var externalFiles = new HashSet<string>(StringComparer.Ordinal);
        if (outline is not null)
        {
            var tensors = new InitializerScan(findings, versionFolder, externalFiles);
            tensors.Run(outline);
            new GraphScan(findings, tensors).Run(outline);
        }

        new VersionFolderScan(findings, versionFolder, Path.GetFullPath(modelPath), externalFiles).Run();
        return (findings.ToReport(), outline);
    }
}
