using Google.Protobuf;
using Onnx;

namespace Turbine.Onnx;

/// <summary>
/// Reads a model file's declared inputs and outputs without creating a session, and refuses files that are not
/// ONNX or whose external data would reach outside the version folder (SECURITY.md A6).
/// </summary>
internal static class OnnxModelInspector
{
    public static ModelSignature Inspect(string modelPath)
    {
        GraphProto? graph;
        try
        {
            graph = OnnxGraphSkeleton.Read(modelPath);
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or IOException)
        {
            throw new InferenceException($"model file is not a valid ONNX model: {e.Message}");
        }

        if (graph is null || graph.Output.Count == 0)
        {
            throw new InferenceException("model file is not a valid ONNX model: it has no graph outputs");
        }

        CheckExternalData(graph, Path.GetDirectoryName(Path.GetFullPath(modelPath))!);
        var initializers = new HashSet<string>(StringComparer.Ordinal);
        foreach (var initializer in graph.Initializer)
        {
            initializers.Add(initializer.Name);
        }

        var inputs = new List<TensorSignature>();
        foreach (var input in graph.Input)
        {
            if (!initializers.Contains(input.Name))
            {
                inputs.Add(Signature(input));
            }
        }

        var outputs = new List<TensorSignature>();
        foreach (var output in graph.Output)
        {
            outputs.Add(Signature(output));
        }

        return new ModelSignature(inputs, outputs);
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

    private static void CheckExternalData(GraphProto graph, string versionFolder)
    {
        var root = versionFolder.EndsWith(Path.DirectorySeparatorChar) ? versionFolder : versionFolder + Path.DirectorySeparatorChar;
        foreach (var tensor in graph.Initializer)
        {
            if (tensor.DataLocation != TensorProto.Types.DataLocation.External)
            {
                continue;
            }

            string? location = null;
            long offset = 0;
            long length = -1;
            foreach (var entry in tensor.ExternalData)
            {
                switch (entry.Key)
                {
                    case "location": location = entry.Value; break;
                    case "offset": offset = ParseLength(tensor.Name, entry.Value); break;
                    case "length": length = ParseLength(tensor.Name, entry.Value); break;
                }
            }

            if (string.IsNullOrEmpty(location) || Path.IsPathRooted(location) || location.Contains("..", StringComparison.Ordinal) || location.Contains(':', StringComparison.Ordinal))
            {
                throw new InferenceException($"initializer '{tensor.Name}': external data location must be a plain relative file name inside the version folder");
            }

            var fullPath = Path.GetFullPath(Path.Combine(root, location));
            if (!fullPath.StartsWith(root, StringComparison.Ordinal))
            {
                throw new InferenceException($"initializer '{tensor.Name}': external data location escapes the version folder");
            }

            var file = new FileInfo(fullPath);
            if (!file.Exists || file.LinkTarget is not null)
            {
                throw new InferenceException($"initializer '{tensor.Name}': external data file '{location}' is missing or is a link");
            }

            if (offset > file.Length || (length >= 0 && offset + length > file.Length))
            {
                throw new InferenceException($"initializer '{tensor.Name}': external data offset/length lie past the end of '{location}'");
            }
        }
    }

    private static long ParseLength(string tensorName, string value) =>
        long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : throw new InferenceException($"initializer '{tensorName}': external data offset/length '{value}' is not a non-negative integer");
}
