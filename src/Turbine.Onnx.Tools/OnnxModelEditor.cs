using Google.Protobuf;
using Onnx;

namespace Turbine.Onnx.Tools;

/// <summary>Reads, edits and writes existing ONNX models.</summary>
public static class OnnxModelEditor
{
    /// <summary>Parses a model file.</summary>
    /// <exception cref="InvalidProtocolBufferException">The file is not an ONNX model.</exception>
    public static ModelProto Read(string path)
    {
        using var stream = File.OpenRead(path);
        return ModelProto.Parser.ParseFrom(stream);
    }

    /// <summary>Writes a model file atomically (temporary file, then rename), so readers never see half a model.</summary>
    public static void Write(ModelProto model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        var temporary = path + ".tmp";
        using (var stream = File.Create(temporary))
        {
            model.WriteTo(stream);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Makes an intermediate value a graph output too (e.g. a classifier's logits before its softmax), so it can be compared.</summary>
    public static void ExposeOutput(ModelProto model, string name, DataType type, params long[] dims)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.Graph.Output.Add(OnnxModelBuilder.ValueInfo(name, type, dims));
    }

    /// <summary>
    /// Makes dimension <paramref name="dimension"/> symbolic (named <paramref name="symbol"/>) on every graph input and
    /// output and on every intermediate value whose shape is recorded, e.g. to give a model a dynamic batch dimension.
    /// </summary>
    /// <returns>How many tensors were changed.</returns>
    public static int MakeDimensionDynamic(ModelProto model, int dimension = 0, string symbol = "batch")
    {
        ArgumentNullException.ThrowIfNull(model);
        var changed = 0;
        foreach (var info in model.Graph.Input.Concat(model.Graph.Output).Concat(model.Graph.ValueInfo))
        {
            if (IsInitializer(model.Graph, info.Name))
            {
                continue;
            }

            var shape = info.Type?.TensorType?.Shape;
            if (shape is null || shape.Dim.Count <= dimension)
            {
                continue;
            }

            shape.Dim[dimension] = new TensorShapeProto.Types.Dimension { DimParam = symbol };
            changed++;
        }

        return changed;
    }

    private static bool IsInitializer(GraphProto graph, string name)
    {
        foreach (var initializer in graph.Initializer)
        {
            if (initializer.Name == name)
            {
                return true;
            }
        }

        return false;
    }
}
