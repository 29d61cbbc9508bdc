using System.Diagnostics;

namespace Turbine.Onnx.Tools.Evaluation;

/// <summary>Latency and throughput of one model at one batch size.</summary>
/// <param name="BatchSize">Rows per run.</param>
/// <param name="MedianMs">The median run time, in milliseconds.</param>
/// <param name="P99Ms">The 99th percentile run time, in milliseconds.</param>
/// <param name="RowsPerSecond">Rows through per second over every timed run.</param>
public sealed record BatchTiming(int BatchSize, double MedianMs, double P99Ms, double RowsPerSecond);

/// <summary>
/// Times several models on the same batches in one process: each round runs every model in turn for a fixed time, so
/// drift on a noisy machine (another process, a frequency change) falls on all of them alike, and a ratio between two
/// models of one run means something where two absolute figures from different runs would not.
/// </summary>
public static class SideBySideTimer
{
    /// <summary>Timings per model (in the order given) per batch size.</summary>
    /// <param name="models">The models; the first is usually the original.</param>
    /// <param name="samples">Where batches are cut from.</param>
    /// <param name="batchSizes">Rows per run.</param>
    /// <param name="round">How long each model runs in one round.</param>
    /// <param name="rounds">Rounds per batch size.</param>
    /// <param name="progress">Told what is being timed, with the share done.</param>
    public static BatchTiming[][] Measure(IReadOnlyList<ModelUnderTest> models, SampleSet samples, IReadOnlyList<int> batchSizes, TimeSpan round, int rounds, IProgress<(string Step, double Done)>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(batchSizes);
        var timings = models.Select(_ => new BatchTiming[batchSizes.Count]).ToArray();
        for (var b = 0; b < batchSizes.Count; b++)
        {
            using var batch = samples.Batch(batchSizes[b]);
            var runs = models.Select(_ => new List<double>()).ToArray();
            var elapsed = new double[models.Count];
            for (var r = 0; r < rounds; r++)
            {
                for (var m = 0; m < models.Count; m++)
                {
                    progress?.Report(($"batch {batchSizes[b]}, round {r + 1}/{rounds}: {models[m].Name}", ((((b * rounds) + r) * models.Count) + m) / (double)(batchSizes.Count * rounds * models.Count)));
                    elapsed[m] += TimeRound(models[m], batch, round, runs[m]);
                }
            }

            for (var m = 0; m < models.Count; m++)
            {
                runs[m].Sort();
                timings[m][b] = new BatchTiming(batchSizes[b], Percentile(runs[m], 0.5), Percentile(runs[m], 0.99), runs[m].Count * batchSizes[b] / elapsed[m]);
            }
        }

        progress?.Report(("timed", 1));
        return timings;
    }

    /// <returns>Seconds spent in timed runs; each run's milliseconds are added to <paramref name="runs"/>.</returns>
    private static double TimeRound(ModelUnderTest model, SampleBatch batch, TimeSpan round, List<double> runs)
    {
        model.Run(batch).Dispose(); // warm: first-run allocations and caches stay out of the figures
        var total = 0.0;
        var clock = Stopwatch.StartNew();
        do
        {
            var started = Stopwatch.GetTimestamp();
            model.Run(batch).Dispose();
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            runs.Add(seconds * 1000);
            total += seconds;
        }
        while (clock.Elapsed < round);
        return total;
    }

    private static double Percentile(List<double> sorted, double quantile) =>
        sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(quantile * sorted.Count) - 1)];
}
