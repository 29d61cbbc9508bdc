using System.Globalization;

namespace Turbine.Autoscaling;

/// <summary>Request arrival times, in seconds from the trace's start, ascending: recorded, or drawn from a rate.</summary>
public sealed class ArrivalTrace
{
    private ArrivalTrace(double[] arrivals, double duration)
    {
        Arrivals = arrivals;
        Duration = duration;
    }

    /// <summary>The arrival times, ascending.</summary>
    public IReadOnlyList<double> Arrivals { get; }

    /// <summary>How long the trace lasts, in seconds.</summary>
    public double Duration { get; }

    /// <summary>A trace of the given arrival times (sorted here).</summary>
    public static ArrivalTrace Of(IEnumerable<double> arrivals, double? duration = null)
    {
        var sorted = arrivals.ToArray();
        Array.Sort(sorted);
        return new ArrivalTrace(sorted, duration ?? (sorted.Length == 0 ? 0 : sorted[^1]));
    }

    /// <summary>
    /// A Poisson process whose rate follows <paramref name="rate"/> (requests a second at a time), drawn by thinning a
    /// process of rate <paramref name="peak"/>; seeded, so the same arguments give the same trace.
    /// </summary>
    public static ArrivalTrace FromRate(Func<double, double> rate, double peak, double duration, int seed)
    {
        ArgumentNullException.ThrowIfNull(rate);
        var random = new Random(seed);
        var arrivals = new List<double>();
        for (var time = Exponential(random, 1 / peak); time < duration; time += Exponential(random, 1 / peak))
        {
            if (random.NextDouble() * peak < rate(time))
            {
                arrivals.Add(time);
            }
        }

        return new ArrivalTrace([.. arrivals], duration);
    }

    /// <summary>A constant rate.</summary>
    public static ArrivalTrace Poisson(double rate, double duration, int seed) => FromRate(_ => rate, rate, duration, seed);

    /// <summary>A day compressed into <paramref name="duration"/>: a sine between <paramref name="low"/> and <paramref name="high"/>, lowest at the start.</summary>
    public static ArrivalTrace Diurnal(double low, double high, double duration, int seed) =>
        FromRate(t => low + ((high - low) * (1 - Math.Cos(2 * Math.PI * t / duration)) / 2), high, duration, seed);

    /// <summary>A base rate with bursts of <paramref name="burst"/> for <paramref name="burstSeconds"/> every <paramref name="every"/> seconds.</summary>
    public static ArrivalTrace Bursty(double rate, double burst, double burstSeconds, double every, double duration, int seed) =>
        FromRate(t => t % every < burstSeconds ? burst : rate, Math.Max(rate, burst), duration, seed);

    /// <summary>A base rate that jumps to <paramref name="crowd"/> at <paramref name="at"/> and decays back with time constant <paramref name="decaySeconds"/>.</summary>
    public static ArrivalTrace FlashCrowd(double rate, double crowd, double at, double decaySeconds, double duration, int seed) =>
        FromRate(t => t < at ? rate : rate + ((crowd - rate) * Math.Exp(-(t - at) / decaySeconds)), Math.Max(rate, crowd), duration, seed);

    /// <summary>
    /// Reads a CSV of arrivals: one timestamp (seconds) a line, or <c>second,count</c> lines of requests per second
    /// (spread evenly in their second); a header line is skipped.
    /// </summary>
    public static ArrivalTrace ReadCsv(string path)
    {
        var arrivals = new List<double>();
        foreach (var line in File.ReadLines(path))
        {
            var cells = line.Split(',');
            if (!double.TryParse(cells[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var time))
            {
                continue; // a header
            }

            if (cells.Length > 1 && int.TryParse(cells[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var count))
            {
                for (var k = 0; k < count; k++)
                {
                    arrivals.Add(time + ((k + 0.5) / count));
                }
            }
            else
            {
                arrivals.Add(time);
            }
        }

        return Of(arrivals);
    }

    private static double Exponential(Random random, double mean) => -mean * Math.Log(1 - random.NextDouble());
}
