using Turbine.Monitoring.Profiles;

namespace Turbine.Monitoring.Drift;

/// <summary>
/// The latest rows of a model version's traffic, feature by feature, in rings of a fixed capacity with each row's
/// time, so that a window can be taken by count (the latest rows) and by time (rows no older than a limit). Not
/// thread-safe: its <see cref="VersionMonitor"/> serializes access.
/// </summary>
internal sealed class RowWindow
{
    private readonly FeatureLayout _layout;
    private readonly double[][] _numbers;
    private readonly string?[][] _categories;
    private readonly double[] _confidence;
    private readonly long[] _times;
    private readonly int _predictedClass;
    private int _next;
    private int _count;

    public RowWindow(FeatureLayout layout, int capacity)
    {
        _layout = layout;
        _numbers = [.. layout.Features.Select(f => f.Kind == FeatureKind.Numeric ? new double[capacity] : [])];
        _categories = [.. layout.Features.Select(f => f.Kind == FeatureKind.Categorical ? new string?[capacity] : [])];
        _confidence = new double[capacity];
        _times = new long[capacity];
        _predictedClass = ProfileBuilder.IndexOfPredictedClass(layout);
    }

    public int Capacity => _times.Length;

    /// <summary>Adds an observation's rows stamped with <paramref name="time"/> (Unix milliseconds).</summary>
    public void Add(FeatureTable table, long time)
    {
        for (var r = 0; r < table.Rows; r++)
        {
            for (var f = 0; f < _layout.Features.Count; f++)
            {
                if (_numbers[f].Length > 0)
                {
                    _numbers[f][_next] = table.Number(f, r);
                }
                else
                {
                    _categories[f][_next] = table.Category(f, r);
                }
            }

            _confidence[_next] = _predictedClass >= 0 ? table.Confidence(_predictedClass, r) : double.NaN;
            _times[_next] = time;
            _next = (_next + 1) % Capacity;
            _count = Math.Min(_count + 1, Capacity);
        }
    }

    /// <summary>The rows no older than <paramref name="since"/> (Unix milliseconds), oldest first, copied out.</summary>
    public WindowSnapshot Take(long since)
    {
        var rows = 0;
        while (rows < _count && _times[Index(_count - 1 - rows)] >= since)
        {
            rows++;
        }

        var first = _count - rows;
        var numbers = new double[_numbers.Length][];
        var categories = new string?[_categories.Length][];
        for (var f = 0; f < numbers.Length; f++)
        {
            numbers[f] = _numbers[f].Length > 0 ? Copy(_numbers[f], first, rows) : [];
            categories[f] = _categories[f].Length > 0 ? Copy(_categories[f], first, rows) : [];
        }

        return new WindowSnapshot(rows, numbers, categories, Copy(_confidence, first, rows), rows == 0 ? 0 : _times[Index(first)]);
    }

    /// <summary>The ring position of the <paramref name="k"/>-th oldest row held.</summary>
    private int Index(int k) => (_next - _count + k + (2 * Capacity)) % Capacity;

    private T[] Copy<T>(T[] ring, int first, int rows)
    {
        var copy = new T[rows];
        for (var k = 0; k < rows; k++)
        {
            copy[k] = ring[Index(first + k)];
        }

        return copy;
    }
}

/// <summary>A window's rows as feature columns, oldest first.</summary>
internal sealed record WindowSnapshot(int Rows, double[][] Numbers, string?[][] Categories, double[] Confidence, long Oldest);
