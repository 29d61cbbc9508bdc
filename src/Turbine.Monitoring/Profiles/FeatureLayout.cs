namespace Turbine.Monitoring.Profiles;

/// <summary>
/// Which features a model has: each element of a fixed-width row of every input and output, up to
/// <see cref="MaxRowWidth"/> elements a row, and the predicted class of the classifier's probabilities output. Wider
/// tensors (images, token sequences, embeddings) are left out with the reason, since per-element drift means little
/// there.
/// </summary>
public sealed class FeatureLayout
{
    /// <summary>Elements a row may have for its tensor to be monitored element by element.</summary>
    public const int MaxRowWidth = 64;

    private FeatureLayout(bool batched, IReadOnlyList<FeatureSpec> features, IReadOnlyList<string> skipped)
    {
        IsBatched = batched;
        Features = features;
        Skipped = skipped;
    }

    /// <summary>Whether tensors have a leading batch dimension (rows); otherwise a tensor is one row.</summary>
    public bool IsBatched { get; }

    /// <summary>The monitored features, inputs first.</summary>
    public IReadOnlyList<FeatureSpec> Features { get; }

    /// <summary>Tensors left out, each with the reason.</summary>
    public IReadOnlyList<string> Skipped { get; }

    /// <summary>The layout of a model with configuration <paramref name="config"/>.</summary>
    /// <param name="config">The model's configuration.</param>
    /// <param name="probabilities">The output holding class probabilities, whose argmax is the predicted class; none when null.</param>
    public static FeatureLayout For(ModelConfig config, string? probabilities)
    {
        ArgumentNullException.ThrowIfNull(config);
        var features = new List<FeatureSpec>();
        var skipped = new List<string>();
        Add(config.Inputs, FeatureSource.Input, null, features, skipped);
        Add(config.Outputs, FeatureSource.Output, probabilities, features, skipped);
        return new FeatureLayout(config.MaxBatchSize > 0, features, skipped);
    }

    /// <summary>The feature named <paramref name="name"/>, or null.</summary>
    public FeatureSpec? Find(string name)
    {
        foreach (var feature in Features)
        {
            if (feature.Name == name)
            {
                return feature;
            }
        }

        return null;
    }

    private static void Add(IReadOnlyList<TensorConfig> tensors, FeatureSource source, string? probabilities, List<FeatureSpec> features, List<string> skipped)
    {
        foreach (var tensor in tensors)
        {
            if (!TryWidth(tensor.Dims, out var width))
            {
                skipped.Add($"'{tensor.Name}': rows of variable shape {Shapes.Format(tensor.Dims)}");
                continue;
            }

            if (width > MaxRowWidth)
            {
                skipped.Add($"'{tensor.Name}': {width} elements a row, more than {MaxRowWidth}");
                continue;
            }

            var kind = tensor.DataType is DataType.Bytes or DataType.Bool ? FeatureKind.Categorical : FeatureKind.Numeric;
            for (var i = 0; i < width; i++)
            {
                features.Add(new FeatureSpec(width == 1 ? tensor.Name : $"{tensor.Name}[{i}]", source, tensor.Name, i, width, kind));
            }

            if (tensor.Name == probabilities)
            {
                features.Add(new FeatureSpec($"{tensor.Name}:class", source, tensor.Name, 0, width, FeatureKind.Categorical, IsPredictedClass: true));
            }
        }
    }

    private static bool TryWidth(long[] dims, out int width)
    {
        long product = 1;
        foreach (var dim in dims)
        {
            if (dim < 0)
            {
                width = 0;
                return false;
            }

            product *= dim;
            if (product > MaxRowWidth)
            {
                width = (int)Math.Min(product, int.MaxValue);
                return true;
            }
        }

        width = (int)product;
        return true;
    }
}
