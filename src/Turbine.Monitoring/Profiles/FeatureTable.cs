using System.Globalization;

namespace Turbine.Monitoring.Profiles;

/// <summary>
/// One observation's rows, read feature by feature: numbers (NaN when missing) for numeric features, text (null when
/// missing) for categorical ones. Each tensor is decoded once and the features index into it, so a table costs a
/// few arrays whatever the number of features. Built off the request path (the tap's thread, or the profile command).
/// </summary>
public sealed class FeatureTable
{
    private readonly FeatureLayout _layout;
    private readonly double[]?[] _numbers;
    private readonly string[]?[] _texts;
    private readonly bool[] _booleans;

    private FeatureTable(FeatureLayout layout, int rows, double[]?[] numbers, string[]?[] texts, bool[] booleans)
    {
        _layout = layout;
        Rows = rows;
        _numbers = numbers;
        _texts = texts;
        _booleans = booleans;
    }

    /// <summary>Rows in the observation.</summary>
    public int Rows { get; }

    /// <summary>Feature <paramref name="feature"/> of the layout in row <paramref name="row"/> as a number (NaN when missing or not numeric).</summary>
    public double Number(int feature, int row)
    {
        var spec = _layout.Features[feature];
        return _numbers[feature] is { } values ? values[(row * spec.Width) + spec.Index] : double.NaN;
    }

    /// <summary>Feature <paramref name="feature"/> of the layout in row <paramref name="row"/> as a category (null when missing).</summary>
    public string? Category(int feature, int row)
    {
        var spec = _layout.Features[feature];
        var at = (row * spec.Width) + spec.Index;
        if (spec.IsPredictedClass)
        {
            return _numbers[feature] is { } probabilities ? ClassNames.Of(ArgMax(probabilities, row * spec.Width, spec.Width)) : null;
        }

        if (_texts[feature] is { } texts)
        {
            return texts[at].Length == 0 ? null : texts[at];
        }

        if (_numbers[feature] is { } numbers)
        {
            return _booleans[feature] ? (numbers[at] != 0 ? "true" : "false") : numbers[at].ToString("R", CultureInfo.InvariantCulture);
        }

        return null;
    }

    /// <summary>The classifier's confidence in row <paramref name="row"/> (its largest probability) read through predicted-class feature <paramref name="feature"/>; NaN when missing.</summary>
    public double Confidence(int feature, int row)
    {
        var spec = _layout.Features[feature];
        if (_numbers[feature] is not { } probabilities)
        {
            return double.NaN;
        }

        return probabilities[(row * spec.Width) + ArgMax(probabilities, row * spec.Width, spec.Width)];
    }

    /// <summary>Reads the features of one request and its answer; null when the request has no rows.</summary>
    public static FeatureTable? Read(FeatureLayout layout, IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor> outputs)
    {
        ArgumentNullException.ThrowIfNull(layout);
        var rows = RowCount(layout, inputs, outputs);
        if (rows <= 0)
        {
            return null;
        }

        var count = layout.Features.Count;
        var numbers = new double[]?[count];
        var texts = new string[]?[count];
        var booleans = new bool[count];
        Tensor? last = null;
        (double[]? Numbers, string[]? Texts) values = default;
        for (var f = 0; f < count; f++)
        {
            var spec = layout.Features[f];
            var tensor = Find(spec.Source == FeatureSource.Input ? inputs : outputs, spec.Tensor);
            if (tensor is null || tensor.ElementCount != (long)rows * spec.Width)
            {
                continue; // missing: an optional input left out, or a tensor of another shape
            }

            if (!ReferenceEquals(tensor, last))
            {
                // A tensor's features sit together in the layout, so each tensor is decoded once.
                values = tensor.DataType == DataType.Bytes ? (null, tensor.ToStrings()) : (TensorValues.AsDoubles(tensor), null);
                last = tensor;
            }

            (numbers[f], texts[f], booleans[f]) = (values.Numbers, values.Texts, tensor.DataType == DataType.Bool);
        }

        return new FeatureTable(layout, rows, numbers, texts, booleans);
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

    private static int ArgMax(double[] values, int start, int width)
    {
        var best = 0;
        for (var k = 1; k < width; k++)
        {
            if (values[start + k] > values[start + best])
            {
                best = k;
            }
        }

        return best;
    }
}

/// <summary>Class indexes as the category names predicted-class features use; the first hundred interned.</summary>
internal static class ClassNames
{
    private static readonly string[] Small = [.. Enumerable.Range(0, 100).Select(i => i.ToString(CultureInfo.InvariantCulture))];

    public static string Of(int index) => index < Small.Length ? Small[index] : index.ToString(CultureInfo.InvariantCulture);
}
