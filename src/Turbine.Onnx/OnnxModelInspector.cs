using Onnx;
using Turbine.Onnx.Scanning;

namespace Turbine.Onnx;

/// <summary>
/// Reads a model file's declared inputs and outputs without creating a session, after the security scan
/// (<see cref="OnnxModelScanner"/>) has passed it: a file that is not ONNX, whose external data would reach outside
/// the version folder (SECURITY.md A6) or that another finding blocks is refused.
/// </summary>
internal static class OnnxModelInspector
{
    public static ModelSignature Inspect(string modelPath, ModelScanPolicy policy)
    {
        var (report, outline) = OnnxModelScanner.ScanWithOutline(modelPath, policy);
        if (report.Blocked)
        {
            var blocking = report.Findings.Where(f => f.Verdict == ScanVerdict.Block).ToList();
            var first = blocking[0];
            var more = blocking.Count > 1 ? $" (and {blocking.Count - 1} more: run turbine scan on the version folder)" : string.Empty;
            throw new InferenceException(first.Kind == ScanFindingKinds.Unreadable
                ? $"model file is {first.Message}"
                : $"the model scan blocks this model: {first}{more}");
        }

        var initializers = new HashSet<string>(StringComparer.Ordinal);
        foreach (var initializer in outline!.Initializers)
        {
            initializers.Add(initializer.Name);
        }

        var inputs = new List<TensorSignature>();
        foreach (var input in outline.Inputs)
        {
            if (!initializers.Contains(input.Name))
            {
                inputs.Add(Signature(input));
            }
        }

        var outputs = new List<TensorSignature>();
        foreach (var output in outline.Outputs)
        {
            outputs.Add(Signature(output));
        }

        return new ModelSignature(inputs, outputs) { Warnings = [.. report.Warnings.Select(w => $"model scan: {w}")] };
    }

    private static TensorSignature Signature(ValueInfoProto info)
    {
        var tensorType = info.Type?.TensorType
            ?? throw new InferenceException($"tensor '{info.Name}' is not a tensor; only tensor inputs and outputs are supported");
        var type = OnnxDataTypes.FromOnnx(tensorType.ElemType);
        if (type == DataType.Invalid)
        {
            throw new InferenceException($"tensor '{info.Name}' has ONNX element type {tensorType.ElemType}, which Turbine does not serve");
        }

        var dims = tensorType.Shape?.Dim;
        var shape = new long[dims?.Count ?? 0];
        for (var i = 0; i < shape.Length; i++)
        {
            var dim = dims![i];
            shape[i] = dim.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? dim.DimValue : -1;
        }

        return new TensorSignature(info.Name, type, shape);
    }
}
