using System.Globalization;
using System.Text;

namespace Turbine.Monitoring.Quality;

/// <summary>The kind of check a compiled rule makes.</summary>
public enum QualityCheckKind
{
    /// <summary>The value lies within [min, max].</summary>
    Range,

    /// <summary>The value is one of a set.</summary>
    Allowed,

    /// <summary>The value is not NaN, infinite or empty.</summary>
    NotMissing,
}

/// <summary>
/// One compiled check on one input: every element of the tensor, or element <see cref="Index"/> of each row. Checks
/// read the request's buffers in place and allocate only to describe a break; their counters are the rule's metrics.
/// </summary>
public sealed class QualityRuleCheck
{
    private readonly HashSet<double>? _allowedNumbers;
    private readonly Dictionary<ulong, byte[][]>? _allowedTexts;
    private long _checked;
    private long _broken;

    internal QualityRuleCheck(string name, string tensor, int index, int width, QualityCheckKind kind, QualityPolicy policy, double min = double.NegativeInfinity, double max = double.PositiveInfinity, IReadOnlyList<string>? allowed = null)
    {
        Name = name;
        Tensor = tensor;
        Index = index;
        Width = width;
        Kind = kind;
        Policy = policy;
        Min = min;
        Max = max;
        Allowed = allowed ?? [];
        if (allowed is not null)
        {
            _allowedNumbers = [];
            _allowedTexts = [];
            foreach (var value in allowed)
            {
                if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
                {
                    _allowedNumbers.Add(number);
                }

                var bytes = Encoding.UTF8.GetBytes(value);
                var hash = Hash(bytes);
                _allowedTexts[hash] = [.. _allowedTexts.GetValueOrDefault(hash) ?? [], bytes];
            }
        }
    }

    /// <summary>The rule's name in reports, errors and metrics: <c>feature:range</c>, <c>feature:allowed</c> or <c>feature:missing</c>.</summary>
    public string Name { get; }

    /// <summary>The input checked.</summary>
    public string Tensor { get; }

    /// <summary>The element within each row, or -1 for every element.</summary>
    public int Index { get; }

    /// <summary>Elements a row of the tensor has (when <see cref="Index"/> picks one).</summary>
    public int Width { get; }

    /// <summary>The check.</summary>
    public QualityCheckKind Kind { get; }

    /// <summary>What a break does.</summary>
    public QualityPolicy Policy { get; }

    /// <summary>The smallest value allowed (range).</summary>
    public double Min { get; }

    /// <summary>The largest value allowed (range).</summary>
    public double Max { get; }

    /// <summary>The values allowed (allowed).</summary>
    public IReadOnlyList<string> Allowed { get; }

    /// <summary>Requests checked.</summary>
    public long Checked => Interlocked.Read(ref _checked);

    /// <summary>Requests that broke the rule.</summary>
    public long Broken => Interlocked.Read(ref _broken);

    /// <summary>Checks the request's tensor; null when it keeps the rule, else what broke it.</summary>
    public string? Check(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        Interlocked.Increment(ref _checked);
        var broken = tensor.DataType == DataType.Bytes ? CheckTexts(tensor) : CheckNumbers(tensor);
        if (broken is not null)
        {
            Interlocked.Increment(ref _broken);
        }

        return broken;
    }

    private string? CheckNumbers(Tensor tensor)
    {
        ReadOnlySpan<byte> data = tensor.Data.Span;
        var count = (int)Math.Min(tensor.ElementCount, int.MaxValue);
        int start = Index < 0 ? 0 : Index, step = Index < 0 ? 1 : Width;
        for (var k = start; k < count; k += step)
        {
            var value = ElementReader.Number(data, tensor.DataType, k);
            var kept = Kind switch
            {
                QualityCheckKind.Range => !(value < Min || value > Max),
                QualityCheckKind.NotMissing => double.IsFinite(value),
                _ => _allowedNumbers!.Contains(value),
            };
            if (!kept)
            {
                return Describe(k, value.ToString("R", CultureInfo.InvariantCulture));
            }
        }

        return null;
    }

    private string? CheckTexts(Tensor tensor)
    {
        if (Kind == QualityCheckKind.Range)
        {
            return null; // text has no range; the configuration reader does not pair them, the profile never does
        }

        ReadOnlySpan<byte> data = tensor.Data.Span;
        var step = Index < 0 ? 1 : Width;
        for (var k = 0; data.Length > 0; k++)
        {
            var element = ElementReader.NextBytes(ref data);
            if (Index >= 0 && k % step != Index)
            {
                continue;
            }

            var kept = Kind == QualityCheckKind.NotMissing ? element.Length > 0 : IsAllowed(element);
            if (!kept)
            {
                return Describe(k, $"'{ClientText.Quote(Encoding.UTF8.GetString(element[..Math.Min(element.Length, 64)]))}'");
            }
        }

        return null;
    }

    private bool IsAllowed(ReadOnlySpan<byte> element)
    {
        if (!_allowedTexts!.TryGetValue(Hash(element), out var candidates))
        {
            return false;
        }

        foreach (var candidate in candidates)
        {
            if (element.SequenceEqual(candidate))
            {
                return true;
            }
        }

        return false;
    }

    private string Describe(int element, string value)
    {
        var row = Index < 0 ? element : element / Width;
        var what = Kind switch
        {
            QualityCheckKind.Range => $"is outside [{Min.ToString("R", CultureInfo.InvariantCulture)}, {Max.ToString("R", CultureInfo.InvariantCulture)}]",
            QualityCheckKind.NotMissing => "is missing",
            _ => Allowed.Count <= 8 ? $"is not one of {string.Join(", ", Allowed)}" : $"is not one of the {Allowed.Count} allowed values",
        };
        return Index < 0
            ? $"input '{Tensor}' element {row}: {value} {what} (quality rule '{Name}')"
            : $"input '{Tensor}' row {row}: {value} {what} (quality rule '{Name}')";
    }

    /// <summary>FNV-1a over the bytes.</summary>
    private static ulong Hash(ReadOnlySpan<byte> bytes)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return hash;
    }
}
