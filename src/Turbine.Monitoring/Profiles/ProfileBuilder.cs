namespace Turbine.Monitoring.Profiles;

/// <summary>
/// Builds a <see cref="ReferenceProfile"/> from reference rows, one <see cref="FeatureTable"/> at a time. Numeric
/// values are kept (up to <see cref="KeptValues"/> a feature, then as a uniform reservoir) so that quantiles and
/// histograms are exact for reference sets of that size; the profile stores a sorted uniform sample of them.
/// </summary>
public sealed class ProfileBuilder
{
    /// <summary>Numeric values kept per feature before the builder samples.</summary>
    public const int KeptValues = 1_000_000;

    /// <summary>Distinct categories counted per feature; the rest are counted under <see cref="OtherCategory"/>.</summary>
    public const int MaxCategories = 1000;

    /// <summary>The category rare values beyond <see cref="MaxCategories"/> are counted under.</summary>
    public const string OtherCategory = "(other)";

    private readonly string _model;
    private readonly FeatureLayout _layout;
    private readonly int _sampleSize;
    private readonly Random _random;
    private readonly FeatureAccumulator[] _features;
    private readonly long[] _calibrationRows = new long[ConfidenceCalibration.Bins];
    private readonly long[] _calibrationCorrect = new long[ConfidenceCalibration.Bins];
    private readonly int _predictedClass;
    private long _labelled;
    private long _rows;

    /// <summary>Creates a builder for a model's features.</summary>
    /// <param name="model">The model's name.</param>
    /// <param name="layout">Its features.</param>
    /// <param name="sampleSize">Values of each numeric feature the profile keeps for the drift tests.</param>
    /// <param name="seed">The sampler's seed, so that a profile can be made again identically.</param>
    public ProfileBuilder(string model, FeatureLayout layout, int sampleSize = 2000, int seed = 17)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentOutOfRangeException.ThrowIfLessThan(sampleSize, 10);
        _model = model;
        _layout = layout;
        _sampleSize = sampleSize;
        _random = new Random(seed);
        _features = [.. layout.Features.Select(f => new FeatureAccumulator(f))];
        _predictedClass = IndexOfPredictedClass(layout);
    }

    /// <summary>The position of the predicted-class feature in <paramref name="layout"/>, or -1.</summary>
    internal static int IndexOfPredictedClass(FeatureLayout layout)
    {
        for (var f = 0; f < layout.Features.Count; f++)
        {
            if (layout.Features[f].IsPredictedClass)
            {
                return f;
            }
        }

        return -1;
    }

    /// <summary>Rows added so far.</summary>
    public long Rows => _rows;

    /// <summary>Adds one table of rows, with each row's true class when the data has labels (for the classifier's calibration).</summary>
    public void Add(FeatureTable table, IReadOnlyList<string?>? labels = null)
    {
        ArgumentNullException.ThrowIfNull(table);
        for (var f = 0; f < _features.Length; f++)
        {
            var accumulator = _features[f];
            for (var r = 0; r < table.Rows; r++)
            {
                if (accumulator.Spec.Kind == FeatureKind.Numeric)
                {
                    accumulator.AddNumber(table.Number(f, r), _random);
                }
                else
                {
                    accumulator.AddCategory(table.Category(f, r));
                }
            }
        }

        if (labels is not null && _predictedClass >= 0)
        {
            AddLabels(table, labels);
        }

        _rows += table.Rows;
    }

    /// <summary>The profile of everything added.</summary>
    public ReferenceProfile Build(DateTimeOffset created) => new()
    {
        Model = _model,
        Created = created,
        Rows = _rows,
        Features = [.. _features.Select(f => f.Build(_sampleSize, _random))],
        Calibration = _labelled == 0 ? null : new ConfidenceCalibration(
            _layout.Features.First(f => f.IsPredictedClass).Tensor, [.. _calibrationRows], [.. _calibrationCorrect], (double)_calibrationCorrect.Sum() / _labelled),
    };

    private void AddLabels(FeatureTable table, IReadOnlyList<string?> labels)
    {
        for (var r = 0; r < table.Rows && r < labels.Count; r++)
        {
            if (labels[r] is { } label && table.Category(_predictedClass, r) is { } said)
            {
                AddLabelled(table.Confidence(_predictedClass, r), said, label);
            }
        }
    }

    /// <summary>Adds one labelled prediction to the classifier's calibration: its confidence, the class it predicted and the true class.</summary>
    public void AddLabelled(double confidence, string predicted, string label)
    {
        var bin = ConfidenceCalibration.BinOf(confidence);
        _calibrationRows[bin]++;
        _calibrationCorrect[bin] += predicted == label ? 1 : 0;
        _labelled++;
    }

    /// <summary>One feature's running figures.</summary>
    private sealed class FeatureAccumulator(FeatureSpec spec)
    {
        private readonly List<double> _values = [];
        private readonly Dictionary<string, long> _categories = new(StringComparer.Ordinal);
        private long _count;
        private long _missing;
        private long _present;
        private double _mean;
        private double _squares;
        private double _min = double.PositiveInfinity;
        private double _max = double.NegativeInfinity;
        private bool _manyValues;

        public FeatureSpec Spec { get; } = spec;

        public void AddNumber(double value, Random random)
        {
            _count++;
            if (!double.IsFinite(value))
            {
                _missing++;
                return;
            }

            _present++;
            var delta = value - _mean;
            _mean += delta / _present;
            _squares += delta * (value - _mean);
            _min = Math.Min(_min, value);
            _max = Math.Max(_max, value);
            if (_values.Count < KeptValues)
            {
                _values.Add(value);
            }
            else if (random.NextInt64(_present) is var slot && slot < KeptValues)
            {
                _values[(int)slot] = value; // reservoir sampling keeps every value equally likely
            }

            if (!_manyValues)
            {
                var key = value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
                _categories[key] = _categories.GetValueOrDefault(key) + 1;
                _manyValues = _categories.Count > ReferenceProfile.LowCardinality;
            }
        }

        public void AddCategory(string? value)
        {
            _count++;
            if (value is null)
            {
                _missing++;
                return;
            }

            var key = _categories.Count >= MaxCategories && !_categories.ContainsKey(value) ? OtherCategory : value;
            _categories[key] = _categories.GetValueOrDefault(key) + 1;
        }

        public FeatureProfile Build(int sampleSize, Random random)
        {
            var profile = new FeatureProfile { Name = Spec.Name, Source = Spec.Source, Kind = Spec.Kind, Count = _count, Missing = _missing };
            if (Spec.Kind == FeatureKind.Categorical)
            {
                return profile with { Categories = new SortedDictionary<string, long>(_categories, StringComparer.Ordinal) };
            }

            if (_values.Count == 0)
            {
                return profile;
            }

            var sorted = _values.ToArray();
            Array.Sort(sorted);
            return profile with
            {
                Min = _min,
                Max = _max,
                Mean = _mean,
                StandardDeviation = Math.Sqrt(_squares / _present),
                Quantiles = [.. Enumerable.Range(0, 101).Select(q => Quantile(sorted, q / 100.0))],
                HistogramEdges = [.. Enumerable.Range(0, 11).Select(k => _min + ((_max - _min) * k / 10))],
                HistogramCounts = Histogram(sorted, _min, _max),
                Sample = Subsample(sorted, sampleSize, random),
                Categories = _manyValues ? null : new SortedDictionary<string, long>(_categories, StringComparer.Ordinal),
            };
        }

        /// <summary>Linear interpolation between the closest ranks (numpy's default).</summary>
        private static double Quantile(double[] sorted, double q)
        {
            var position = q * (sorted.Length - 1);
            var below = (int)Math.Floor(position);
            var above = Math.Min(below + 1, sorted.Length - 1);
            return sorted[below] + ((sorted[above] - sorted[below]) * (position - below));
        }

        private static long[] Histogram(double[] sorted, double min, double max)
        {
            var counts = new long[10];
            var width = max > min ? (max - min) / 10 : 1;
            foreach (var value in sorted)
            {
                counts[Math.Clamp((int)((value - min) / width), 0, 9)]++;
            }

            return counts;
        }

        /// <summary>A uniform sample without replacement, sorted (a partial Fisher-Yates shuffle over a copy).</summary>
        private static double[] Subsample(double[] sorted, int size, Random random)
        {
            if (sorted.Length <= size)
            {
                return sorted;
            }

            var copy = (double[])sorted.Clone();
            for (var k = 0; k < size; k++)
            {
                var pick = random.Next(k, copy.Length);
                (copy[k], copy[pick]) = (copy[pick], copy[k]);
            }

            var sample = copy[..size];
            Array.Sort(sample);
            return sample;
        }
    }
}
