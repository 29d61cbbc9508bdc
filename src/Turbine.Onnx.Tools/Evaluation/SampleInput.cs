using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;

namespace Turbine.Onnx.Tools.Evaluation;

/// <summary>The rows of one model input, stored in the input's own element type, from which batches are cut.</summary>
public abstract class SampleInput
{
    private protected SampleInput(string name, DataType type, long[] rowShape)
    {
        Name = name;
        Type = type;
        RowShape = rowShape;
    }

    /// <summary>The input's name.</summary>
    public string Name { get; }

    /// <summary>The element type.</summary>
    public DataType Type { get; }

    /// <summary>
    /// The shape of one row: the model's shape without its batch dimension, with any other dynamic dimension (-1)
    /// fixed by the first rows added (a sequence length, say), which every later row must match.
    /// </summary>
    public long[] RowShape { get; private set; }

    /// <summary>Elements per row; 0 while a dynamic dimension is not fixed yet.</summary>
    public long RowElements => RowShape.Any(dim => dim < 0) ? 0 : RowShape.Aggregate(1L, (product, dim) => checked(product * dim));

    /// <summary>Fixes the dynamic dimensions from the shape of rows being added, or checks that shape against the fixed one.</summary>
    /// <exception cref="InferenceException">The rows' shape differs from the model's or from the rows before.</exception>
    public void Accept(long[] rowShape)
    {
        ArgumentNullException.ThrowIfNull(rowShape);
        var fits = rowShape.Length == RowShape.Length && rowShape.Zip(RowShape).All(pair => pair.Second < 0 ? pair.First > 0 : pair.First == pair.Second);
        if (!fits)
        {
            throw new InferenceException($"input '{Name}': rows of shape [{string.Join(", ", rowShape)}] where [{string.Join(", ", RowShape)}] belongs (every row must have the same shape)");
        }

        RowShape = rowShape;
    }

    /// <summary>Rows held.</summary>
    public abstract int Rows { get; }

    /// <summary>An input of <paramref name="type"/> with no rows yet.</summary>
    /// <exception cref="InferenceException">A type the toolkit does not sample (strings, fp16, bf16).</exception>
    public static SampleInput Create(string name, DataType type, long[] rowShape) => type switch
    {
        DataType.Fp32 => new SampleInput<float>(name, type, rowShape),
        DataType.Fp64 => new SampleInput<double>(name, type, rowShape),
        DataType.Int64 => new SampleInput<long>(name, type, rowShape),
        DataType.Int32 => new SampleInput<int>(name, type, rowShape),
        DataType.Int16 => new SampleInput<short>(name, type, rowShape),
        DataType.Int8 => new SampleInput<sbyte>(name, type, rowShape),
        DataType.UInt8 => new SampleInput<byte>(name, type, rowShape),
        DataType.UInt16 => new SampleInput<ushort>(name, type, rowShape),
        DataType.UInt32 => new SampleInput<uint>(name, type, rowShape),
        DataType.UInt64 => new SampleInput<ulong>(name, type, rowShape),
        DataType.Bool => new SampleInput<bool>(name, type, rowShape),
        _ => throw new InferenceException($"input '{name}': {type} inputs cannot be sampled for optimization (numeric and bool inputs only)"),
    };

    /// <summary>Adds rows from a flat list of JSON numbers (or booleans), a whole number of rows.</summary>
    public abstract void AddJson(IReadOnlyList<JsonElement> values);

    /// <summary>Adds rows of the given values, converted to the element type.</summary>
    public abstract void AddValues(ReadOnlySpan<double> values);

    /// <summary>A tensor of <paramref name="rows"/> rows starting at <paramref name="firstRow"/>, wrapping around.</summary>
    public abstract OrtValue Batch(int firstRow, int rows);

    /// <summary>Every value as a double, row after row (for calibration and comparison).</summary>
    public abstract double[] AsDoubles(int firstRow, int rows);
}

/// <summary>The rows of one input in element type <typeparamref name="T"/>.</summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed class SampleInput<T> : SampleInput
    where T : unmanaged
{
    private readonly List<T> _values = [];

    internal SampleInput(string name, DataType type, long[] rowShape)
        : base(name, type, rowShape)
    {
    }

    /// <inheritdoc />
    public override int Rows => RowElements == 0 ? 0 : (int)(_values.Count / RowElements);


    /// <inheritdoc />
    public override void AddJson(IReadOnlyList<JsonElement> values)
    {
        CheckWholeRows(values.Count);
        foreach (var value in values)
        {
            _values.Add(Convert(value.ValueKind switch
            {
                JsonValueKind.True => 1,
                JsonValueKind.False => 0,
                JsonValueKind.Number => value.GetDouble(),
                _ => throw new InferenceException($"input '{Name}': {value.ValueKind} where a number belongs"),
            }));
        }
    }

    /// <inheritdoc />
    public override void AddValues(ReadOnlySpan<double> values)
    {
        CheckWholeRows(values.Length);
        foreach (var value in values)
        {
            _values.Add(Convert(value));
        }
    }

    /// <inheritdoc />
    public override OrtValue Batch(int firstRow, int rows)
    {
        var data = new T[rows * RowElements];
        var source = CollectionsMarshal.AsSpan(_values);
        for (var row = 0; row < rows; row++)
        {
            var from = (firstRow + row) % Rows;
            source.Slice((int)(from * RowElements), (int)RowElements).CopyTo(data.AsSpan((int)(row * RowElements)));
        }

        return OrtValue.CreateTensorValueFromMemory(data, [rows, .. RowShape]);
    }

    /// <inheritdoc />
    public override double[] AsDoubles(int firstRow, int rows)
    {
        var values = new double[rows * RowElements];
        var source = CollectionsMarshal.AsSpan(_values);
        for (var i = 0; i < values.Length; i++)
        {
            var row = (firstRow + (i / RowElements)) % Rows;
            values[i] = ToDouble(source[(int)((row * RowElements) + (i % RowElements))]);
        }

        return values;
    }

    private void CheckWholeRows(int count)
    {
        if (RowElements == 0 || count % RowElements != 0)
        {
            throw new InferenceException($"input '{Name}': {count} values are not a whole number of rows of [{string.Join(", ", RowShape)}]");
        }
    }

    private static T Convert(double value) => typeof(T) == typeof(bool)
        ? (T)(object)(value != 0)
        : (T)System.Convert.ChangeType(value, typeof(T), System.Globalization.CultureInfo.InvariantCulture);

    private static double ToDouble(T value) => value is bool flag ? (flag ? 1 : 0) : System.Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture);
}
