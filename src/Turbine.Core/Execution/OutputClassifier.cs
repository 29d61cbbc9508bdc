namespace Turbine.Core.Execution;

/// <summary>
/// The classification extension: an output asked for with a class count comes back as its top classes instead of
/// its values, BYTES of <c>"value:index[:label]"</c>, shape <c>[batch, count]</c> (or <c>[count]</c> for a model
/// that does not batch). Classes rank by value, highest first, the lower index first among equals; the count is
/// capped at the classes there are. Labels come from the output's <c>label_filename</c>.
/// </summary>
internal static class OutputClassifier
{
    /// <summary>Whether any requested output asks for classes.</summary>
    public static bool IsRequested(InferenceRequest request)
    {
        foreach (var output in request.Outputs)
        {
            if (output.ClassCount > 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Why the request's classifications cannot be made for this model (BYTES has no order); null when they can.</summary>
    public static InferenceError? Check(ModelConfig config, InferenceRequest request)
    {
        foreach (var requested in request.Outputs)
        {
            if (requested.ClassCount > 0 && config.Outputs.FirstOrDefault(o => o.Name == requested.Name) is { DataType: DataType.Bytes })
            {
                return InferenceError.Invalid($"classification is not supported for output '{requested.Name}' of type BYTES");
            }
        }

        return null;
    }

    /// <summary>Replaces each output asked for with a class count by its top classes.</summary>
    public static void Apply(InferenceResponse response, InferenceRequest request, ModelConfig config)
    {
        foreach (var requested in request.Outputs)
        {
            if (requested.ClassCount <= 0)
            {
                continue;
            }

            var index = response.Outputs.FindIndex(o => o.Name == requested.Name);
            if (index < 0)
            {
                continue;
            }

            var output = response.Outputs[index];
            config.Labels.TryGetValue(output.Name, out var labels);
            response.Outputs[index] = Classify(output, requested.ClassCount, config.MaxBatchSize > 0, labels);
            output.Dispose();
        }
    }

    private static Tensor Classify(Tensor output, int classCount, bool batched, IReadOnlyList<string>? labels)
    {
        var values = TensorValues.AsDoubles(output)!;
        var rows = batched && output.Shape.Length > 0 ? (int)output.Shape[0] : 1;
        var classes = rows == 0 ? 0 : values.Length / rows;
        var count = Math.Min(classCount, classes);
        var elements = new string[rows * count];
        var order = new int[classes];
        for (var row = 0; row < rows; row++)
        {
            var offset = row * classes;
            for (var i = 0; i < classes; i++)
            {
                order[i] = i;
            }

            // Highest value first; equal values keep the lower index first, as a stable sort would.
            Array.Sort(order, (a, b) => values[offset + b].CompareTo(values[offset + a]) is var byValue and not 0 ? byValue : a.CompareTo(b));
            for (var k = 0; k < count; k++)
            {
                var cls = order[k];
                var text = TensorValues.Format(output, offset + cls) + ":" + cls.ToString(System.Globalization.CultureInfo.InvariantCulture);
                elements[(row * count) + k] = labels is not null && cls < labels.Count ? text + ":" + labels[cls] : text;
            }
        }

        long[] shape = batched ? [rows, count] : [count];
        return Tensor.FromStrings(output.Name, shape, elements);
    }
}
