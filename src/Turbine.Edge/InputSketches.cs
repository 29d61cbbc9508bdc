using System.Text.Json;

namespace Turbine.Edge;

/// <summary>
/// The device's drift sketch: per model and input, a window's summary of the values clients sent (count, mean,
/// standard deviation, minimum, maximum) and a uniform reservoir sample of up to <see cref="SampleSize"/> values
/// (Vitter's algorithm R), from which a receiver computes drift against the training profile (Kolmogorov-Smirnov,
/// PSI) without the device holding a profile. A request adds at most <see cref="ValuesPerRequest"/> of its values,
/// evenly strided; an input over <see cref="LargeInput"/> elements is sketched on one request in 64, so a camera frame
/// costs the request path little. The agent reads and resets the window with each telemetry tick.
/// </summary>
internal sealed class InputSketches(TimeProvider time)
{
    public const int SampleSize = 128;
    public const int ValuesPerRequest = 32;
    public const long LargeInput = 4096;

    private readonly Lock _gate = new();
    private readonly Dictionary<(string Model, string Input), Sketch> _sketches = [];
    private readonly Random _random = new();
    private long _requests;
    private DateTimeOffset _since = time.GetUtcNow();

    /// <summary>Adds a request's numeric inputs.</summary>
    public void Add(InferenceRequest request)
    {
        var large = Interlocked.Increment(ref _requests) % 64 == 0;
        foreach (var input in request.Inputs)
        {
            if (input.ElementCount is <= 0 || (input.ElementCount > LargeInput && !large) || TensorValues.AsDoubles(input) is not { } values)
            {
                continue;
            }

            var stride = Math.Max(1, values.Length / ValuesPerRequest);
            lock (_gate)
            {
                if (!_sketches.TryGetValue((request.ModelName, input.Name), out var sketch))
                {
                    _sketches[(request.ModelName, input.Name)] = sketch = new Sketch();
                }

                for (var i = 0; i < values.Length; i += stride)
                {
                    sketch.Add(values[i], _random);
                }
            }
        }
    }

    /// <summary>Writes the window as JSON and starts the next one.</summary>
    public void WriteAndReset(Utf8JsonWriter writer)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            writer.WriteStartObject();
            writer.WriteString("since", _since);
            writer.WriteString("until", now);
            writer.WriteStartObject("models");
            foreach (var model in _sketches.GroupBy(entry => entry.Key.Model, StringComparer.Ordinal))
            {
                writer.WriteStartObject(model.Key);
                foreach (var (key, sketch) in model)
                {
                    writer.WritePropertyName(key.Input);
                    sketch.WriteTo(writer);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
            _sketches.Clear();
            _since = now;
        }
    }

    private sealed class Sketch
    {
        private readonly double[] _sample = new double[SampleSize];
        private long _count;
        private double _mean;
        private double _m2;
        private double _min = double.PositiveInfinity;
        private double _max = double.NegativeInfinity;

        public void Add(double value, Random random)
        {
            if (!double.IsFinite(value))
            {
                return;
            }

            _count++;
            var delta = value - _mean; // Welford: stable where sum and sum of squares are not
            _mean += delta / _count;
            _m2 += delta * (value - _mean);
            _min = Math.Min(_min, value);
            _max = Math.Max(_max, value);
            if (_count <= SampleSize)
            {
                _sample[_count - 1] = value;
            }
            else if (random.NextInt64(_count) is var slot && slot < SampleSize)
            {
                _sample[slot] = value;
            }
        }

        public void WriteTo(Utf8JsonWriter writer)
        {
            writer.WriteStartObject();
            writer.WriteNumber("count", _count);
            writer.WriteNumber("mean", _mean);
            writer.WriteNumber("std", _count > 1 ? Math.Sqrt(_m2 / (_count - 1)) : 0);
            writer.WriteNumber("min", _min);
            writer.WriteNumber("max", _max);
            writer.WriteStartArray("sample");
            foreach (var value in _sample.AsSpan(0, (int)Math.Min(_count, SampleSize)))
            {
                writer.WriteNumberValue(value);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }
    }
}
