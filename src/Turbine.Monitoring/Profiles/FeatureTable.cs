using System.Globalization;

namespace Turbine.Monitoring.Profiles;

/// <summary>
/// One observation's rows as feature columns: numbers (NaN when missing) for numeric features, text (null when
/// missing) for categorical ones. Built off the request path (the tap's thread, or the profile command).
/// </summary>
public sealed class FeatureTable
{
    private FeatureTable(int rows, double[][] numbers, string?[][] categories, double[] confidence)
    {
        Rows = rows;
        Numbers = numbers;
        Categories = categories;
        Confidence = confidence;
    }

    /// <summary>Rows in the observation.</summary>
    public int Rows { get; }

    /// <summary>Per feature of the layout, its value in each row when numeric (empty for categorical features).</summary>
    public double[][] Numbers { get; }

    /// <summary>Per feature of the layout, its value in each row when categorical (empty for numeric features).</summary>
    public string?[][] Categories { get; }

    /// <summary>Per row, the largest class probability (the classifier's confidence); empty without a predicted-class feature.</summary>
    public double[] Confidence { get; }

    /// <summary>Reads the features of one request and its answer; null when the request has no rows.</summary>
    public static FeatureTable? Read(FeatureLayout layout, IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor> outputs)
    {
        ArgumentNullException.ThrowIfNull(layout);
        var rows = RowCount(layout, inputs, outputs);
        if (rows <= 0)
        {
            return null;
        }

        var confidence = Array.Empty<double>();
        var numbers = new double[layout.Features.Count][];
        var categories = new string?[layout.Features.Count][];
        var decoded = new Dictionary<Tensor, (double[]? Numbers, string[]? Texts)>(ReferenceEqualityComparer.Instance);
        for (var f = 0; f < layout.Features.Count; f++)
        {
            var spec = layout.Features[f];
            var tensor = Find(spec.Source == FeatureSource.Input ? inputs : outputs, spec.Tensor);
            (double[]? Numbers, string[]? Texts) values = default;
            if (tensor is not null && tensor.ElementCount == (long)rows * spec.Width && !decoded.TryGetValue(tensor, out values))
            {
                values = tensor.DataType == DataType.Bytes ? (null, tensor.ToStrings()) : (TensorValues.AsDoubles(tensor), null);
                decoded[tensor] = values;
            }

            numbers[f] = spec.Kind == FeatureKind.Numeric ? NumberColumn(spec, values.Numbers, rows) : [];
            categories[f] = spec.Kind == FeatureKind.Categorical ? CategoryColumn(spec, tensor?.DataType, values, rows) : [];
            if (spec.IsPredictedClass && values.Numbers is { } probabilities)
            {
                confidence = Confidences(probabilities, rows, spec.Width);
            }
        }

        return new FeatureTable(rows, numbers, categories, confidence);
    }

    private static int RowCount(FeatureLayout layout, IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor> outputs)
    {
        if (!layout.IsBatched)
        {
            return 1;
        }

        foreach (var tensor in inputs.Count > 0 ? inputs : outputs)
        {
            if (tensor.Shape.Length > 0)
            {
                return (int)Math.Min(tensor.Shape[0], int.MaxValue);
            }
        }

        return 0;
    }

    private static Tensor? Find(IReadOnlyList<Tensor> tensors, string name)
    {
        foreach (var tensor in tensors)
        {
            if (tensor.Name == name)
            {
                return tensor;
            }
        }

        return null;
    }

    private static double[] NumberColumn(FeatureSpec spec, double[]? values, int rows)
    {
        var column = new double[rows];
        for (var r = 0; r < rows; r++)
        {
            column[r] = values is null ? double.NaN : values[(r * spec.Width) + spec.Index];
        }

        return column;
    }

    private static string?[] CategoryColumn(FeatureSpec spec, DataType? dataType, (double[]? Numbers, string[]? Texts) values, int rows)
    {
        var column = new string?[rows];
        for (var r = 0; r < rows; r++)
        {
            var at = (r * spec.Width) + spec.Index;
            column[r] = spec.IsPredictedClass ? ArgMax(values.Numbers, r * spec.Width, spec.Width)
                : values.Texts is { } texts ? (texts[at].Length == 0 ? null : texts[at])
                : values.Numbers is { } numbers ? (dataType == DataType.Bool ? (numbers[at] != 0 ? "true" : "false") : numbers[at].ToString("R", CultureInfo.InvariantCulture))
                : null;
        }

        return column;
    }

    private static double[] Confidences(double[] probabilities, int rows, int width)
    {
        var confidence = new double[rows];
        for (var r = 0; r < rows; r++)
        {
            var best = double.NegativeInfinity;
            for (var k = 0; k < width; k++)
            {
                best = Math.Max(best, probabilities[(r * width) + k]);
            }

            confidence[r] = best;
        }

        return confidence;
    }

    private static string? ArgMax(double[]? values, int start, int width)
    {
        if (values is null)
        {
            return null;
        }

        var best = 0;
        for (var k = 1; k < width; k++)
        {
            if (values[start + k] > values[start + best])
            {
                best = k;
            }
        }

        return ClassNames.Of(best);
    }
}

/// <summary>Class indexes as the category names predicted-class features use; the first hundred interned.</summary>
internal static class ClassNames
{
    private static readonly string[] Small = [.. Enumerable.Range(0, 100).Select(i => i.ToString(CultureInfo.InvariantCulture))];

    public static string Of(int index) => index < Small.Length ? Small[index] : index.ToString(CultureInfo.InvariantCulture);
}
