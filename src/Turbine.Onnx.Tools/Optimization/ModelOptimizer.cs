using Microsoft.ML.OnnxRuntime;
using Turbine.Onnx.Tools.Evaluation;

namespace Turbine.Onnx.Tools.Optimization;

/// <summary>What a kept candidate must improve.</summary>
public enum OptimizationGoal
{
    /// <summary>Faster than the original at every batch size measured.</summary>
    Latency,

    /// <summary>Smaller on disk, and not much slower.</summary>
    Size,

    /// <summary>Within a device's size and latency budget (<c>--target edge</c>), the most accurate.</summary>
    Edge,
}

/// <summary>What <see cref="ModelOptimizer"/> tries and how it judges.</summary>
/// <param name="Candidates">Candidates, each a pass or passes joined by <c>+</c>.</param>
/// <param name="Goal">What a kept candidate must improve.</param>
/// <param name="Metric">What the accuracy drop is measured in.</param>
/// <param name="MaxAccuracyDrop">The largest drop a kept candidate may show.</param>
/// <param name="BatchSizes">Batch sizes to time.</param>
/// <param name="Round">How long each model runs per timing round.</param>
/// <param name="Rounds">Timing rounds per batch size (medians are reported).</param>
/// <param name="MinSpeedup">Latency goal: the least rows/s ratio to the original at every batch size.</param>
/// <param name="MaxSlowdown">Size goal: the most a candidate may be slower at any batch size (1.1: 10% slower).</param>
/// <param name="MinSizeRatio">Size goal: the file must be at most this share of the original's.</param>
/// <param name="Passes">Settings of the passes.</param>
/// <param name="MaxBytes">Edge goal: the largest model file the device takes (null: no size budget).</param>
/// <param name="MaxLatencyMs">Edge goal: the largest median latency at the smallest batch size (null: no latency budget).</param>
public sealed record OptimizeOptions(
    IReadOnlyList<string> Candidates,
    OptimizationGoal Goal,
    AccuracyMetric Metric,
    double MaxAccuracyDrop,
    IReadOnlyList<int> BatchSizes,
    TimeSpan Round,
    int Rounds,
    double MinSpeedup = 1.05,
    double MaxSlowdown = 1.10,
    double MinSizeRatio = 0.95,
    PassSettings? Passes = null,
    long? MaxBytes = null,
    double? MaxLatencyMs = null);

/// <summary>One candidate, measured and judged.</summary>
/// <param name="Name">The candidate (its passes joined by <c>+</c>).</param>
/// <param name="Path">The candidate's model file; null when a pass failed.</param>
/// <param name="Bytes">The file's size.</param>
/// <param name="PassFigures">What each pass reported.</param>
/// <param name="Timings">Per batch size, as <see cref="OptimizationReport.BatchSizes"/>.</param>
/// <param name="Speedups">Rows/s over the original's, per batch size.</param>
/// <param name="Accuracy">The comparison with the original's outputs.</param>
/// <param name="AccuracyDrop">The drop under the report's metric.</param>
/// <param name="Accepted">Whether the candidate met the goal and the accuracy bound.</param>
/// <param name="Reasons">Why it was rejected, with the figures; empty when accepted.</param>
public sealed record CandidateResult(
    string Name,
    string? Path,
    long Bytes,
    IReadOnlyList<string> PassFigures,
    IReadOnlyList<BatchTiming> Timings,
    IReadOnlyList<double> Speedups,
    OutputComparison? Accuracy,
    double AccuracyDrop,
    bool Accepted,
    IReadOnlyList<string> Reasons);

/// <summary>Everything one optimization run measured.</summary>
/// <param name="Model">The original model file's name.</param>
/// <param name="MeasuredAt">When.</param>
/// <param name="Cores">Cores of the machine that measured.</param>
/// <param name="Goal">The goal.</param>
/// <param name="Metric">The accuracy metric.</param>
/// <param name="MaxAccuracyDrop">The accuracy bound.</param>
/// <param name="AccuracyRows">Rows the accuracy was measured on.</param>
/// <param name="BatchSizes">Batch sizes timed.</param>
/// <param name="OriginalBytes">The original's size.</param>
/// <param name="OriginalTimings">The original's timings.</param>
/// <param name="Candidates">Every candidate.</param>
/// <param name="Chosen">The kept candidate's name; null when none met the goal.</param>
public sealed record OptimizationReport(
    string Model,
    DateTimeOffset MeasuredAt,
    int Cores,
    OptimizationGoal Goal,
    AccuracyMetric Metric,
    double MaxAccuracyDrop,
    int AccuracyRows,
    IReadOnlyList<int> BatchSizes,
    long OriginalBytes,
    IReadOnlyList<BatchTiming> OriginalTimings,
    IReadOnlyList<CandidateResult> Candidates,
    string? Chosen);

/// <summary>
/// <c>turbine optimize</c>'s engine: makes every candidate, compares its answers with the original's on the sample
/// rows, times all of them side by side in one process, and keeps the best candidate that meets the goal within the
/// accuracy bound. A candidate that is slower or less accurate than the goal allows is rejected with the figures
/// that rejected it: int8 is often slower than fp32 on a CPU, and the tool says so instead of shipping it.
/// </summary>
public sealed class ModelOptimizer(OptimizeOptions options, TimeProvider time)
{
    private const int AccuracyBatch = 32;

    /// <summary>Runs the candidates on <paramref name="modelPath"/>, writing them under <paramref name="workFolder"/>.</summary>
    /// <param name="modelPath">The original model.</param>
    /// <param name="samples">Rows to compare answers on and to time.</param>
    /// <param name="workFolder">Where candidates are written.</param>
    /// <param name="progress">Told what is being done, with the share done.</param>
    /// <param name="calibration">Rows for the passes that calibrate (held out from <paramref name="samples"/>); <paramref name="samples"/> when null.</param>
    /// <exception cref="InferenceException">The original does not load, or the sample rows do not fit it.</exception>
    public OptimizationReport Run(string modelPath, SampleSet samples, string workFolder, IProgress<(string Step, double Done)>? progress = null, SampleSet? calibration = null)
    {
        ArgumentNullException.ThrowIfNull(samples);
        Directory.CreateDirectory(workFolder);
        var settings = options.Passes ?? new PassSettings();
        var made = new List<(string Name, string? Path, List<string> Figures, string? Failure)>();
        for (var c = 0; c < options.Candidates.Count; c++)
        {
            progress?.Report(($"making {options.Candidates[c]}", 0.2 * c / options.Candidates.Count));
            made.Add(Make(options.Candidates[c], modelPath, calibration ?? samples, workFolder, settings));
        }

        using var original = new ModelUnderTest("original", modelPath);
        var models = new List<ModelUnderTest>();
        try
        {
            var loaded = new List<(string Name, ModelUnderTest? Model, List<string> Figures, string? Failure)>();
            foreach (var (name, path, figures, failure) in made)
            {
                ModelUnderTest? model = null;
                var loadFailure = failure;
                if (path is not null)
                {
                    try
                    {
                        model = new ModelUnderTest(name, path);
                        models.Add(model);
                    }
                    catch (InferenceException e)
                    {
                        loadFailure = e.Message;
                    }
                }

                loaded.Add((name, model, figures, loadFailure));
            }

            progress?.Report(("comparing answers", 0.2));
            var rows = Math.Min(samples.Rows, 256);
            var accuracy = Compare(original, models, samples, rows);
            var timings = SideBySideTimer.Measure(
                [original, .. models], samples, options.BatchSizes, options.Round, options.Rounds,
                new Progress(progress, from: 0.3, to: 1.0));
            var results = loaded.Select(candidate => candidate.Model is null
                    ? Failed(candidate.Name, candidate.Figures, candidate.Failure!)
                    : Judge(candidate.Model, candidate.Figures, timings[0], timings[1 + models.IndexOf(candidate.Model)], accuracy[models.IndexOf(candidate.Model)], original.FileBytes))
                .ToList();
            return new OptimizationReport(
                Path.GetFileName(modelPath), time.GetUtcNow(), Environment.ProcessorCount, options.Goal, options.Metric, options.MaxAccuracyDrop,
                rows, options.BatchSizes, original.FileBytes, timings[0], results, Choose(results)?.Name);
        }
        finally
        {
            models.ForEach(model => model.Dispose());
        }
    }

    private static (string, string?, List<string>, string?) Make(string candidate, string modelPath, SampleSet calibration, string workFolder, PassSettings settings)
    {
        var figures = new List<string>();
        var input = modelPath;
        var passes = candidate.Split('+');
        try
        {
            for (var i = 0; i < passes.Length; i++)
            {
                var output = Path.Combine(workFolder, $"{candidate.Replace(':', '-')}.{i}.onnx");
                figures.Add(CandidatePasses.Run(passes[i], input, output, calibration, settings));
                input = output;
            }

            return (candidate, input, figures, null);
        }
        catch (InferenceException e)
        {
            return (candidate, null, figures, $"the pass failed: {e.Message}");
        }
    }

    /// <summary>Each model's answers against the original's on the same rows, in batches.</summary>
    private static List<OutputComparison> Compare(ModelUnderTest original, List<ModelUnderTest> models, SampleSet samples, int rows)
    {
        var expected = new List<IDisposableReadOnlyCollection<OrtValue>>();
        var actual = models.Select(_ => new List<IDisposableReadOnlyCollection<OrtValue>>()).ToArray();
        try
        {
            for (var first = 0; first < rows; first += AccuracyBatch)
            {
                using var batch = samples.Batch(Math.Min(AccuracyBatch, rows - first), first);
                expected.Add(original.Run(batch));
                for (var m = 0; m < models.Count; m++)
                {
                    actual[m].Add(models[m].Run(batch));
                }
            }

            return [.. actual.Select(runs => OutputComparison.Compare(expected, runs))];
        }
        finally
        {
            expected.ForEach(run => run.Dispose());
            foreach (var runs in actual)
            {
                runs.ForEach(run => run.Dispose());
            }
        }
    }

    private CandidateResult Judge(ModelUnderTest model, List<string> figures, BatchTiming[] originalTimings, BatchTiming[] timings, OutputComparison accuracy, long originalBytes)
    {
        var speedups = timings.Select((timing, b) => timing.RowsPerSecond / originalTimings[b].RowsPerSecond).ToArray();
        var drop = accuracy.Drop(options.Metric);
        var reasons = new List<string>();
        if (!(drop <= options.MaxAccuracyDrop))
        {
            reasons.Add($"accuracy: {Describe(options.Metric)} drop {drop:P2}, over the {options.MaxAccuracyDrop:P2} allowed");
        }

        for (var b = 0; b < speedups.Length; b++)
        {
            if (options.Goal == OptimizationGoal.Latency && speedups[b] < options.MinSpeedup)
            {
                reasons.Add($"batch {options.BatchSizes[b]}: {speedups[b]:F2}x the original's rows/s, under the {options.MinSpeedup:F2}x the latency goal needs");
            }
            else if (options.Goal == OptimizationGoal.Size && speedups[b] < 1 / options.MaxSlowdown)
            {
                reasons.Add($"batch {options.BatchSizes[b]}: {speedups[b]:F2}x the original's rows/s, slower than the size goal allows ({1 / options.MaxSlowdown:F2}x)");
            }
        }

        if (options.Goal == OptimizationGoal.Edge)
        {
            if (model.FileBytes > options.MaxBytes)
            {
                reasons.Add($"size: {model.FileBytes:N0} bytes, over the device's budget of {options.MaxBytes:N0}");
            }

            if (timings.Length > 0 && timings[0].MedianMs > options.MaxLatencyMs)
            {
                reasons.Add($"latency: batch {timings[0].BatchSize} takes {timings[0].MedianMs:F2} ms at the median, over the device's budget of {options.MaxLatencyMs:F2} ms");
            }
        }

        if (options.Goal == OptimizationGoal.Size && model.FileBytes > originalBytes * options.MinSizeRatio)
        {
            reasons.Add($"size: {model.FileBytes:N0} bytes, {(double)model.FileBytes / originalBytes:P0} of the original's, over the {options.MinSizeRatio:P0} the size goal allows");
        }

        return new CandidateResult(model.Name, model.Path, model.FileBytes, figures, timings, speedups, accuracy, drop, reasons.Count == 0, reasons);
    }

    private static CandidateResult Failed(string name, List<string> figures, string failure) =>
        new(name, null, 0, figures, [], [], null, double.NaN, false, [failure]);

    /// <summary>
    /// The accepted candidate that best meets the goal: the highest geometric-mean speed-up, the smallest file, or
    /// (for a device) the smallest accuracy drop within its budgets, the smaller file between equals.
    /// </summary>
    private CandidateResult? Choose(List<CandidateResult> results)
    {
        var accepted = results.Where(r => r.Accepted).ToList();
        return options.Goal switch
        {
            OptimizationGoal.Size => accepted.OrderBy(r => r.Bytes).ThenByDescending(GeometricMeanSpeedup).FirstOrDefault(),
            OptimizationGoal.Edge => accepted.OrderBy(r => r.AccuracyDrop).ThenBy(r => r.Bytes).FirstOrDefault(),
            _ => accepted.OrderByDescending(GeometricMeanSpeedup).FirstOrDefault(),
        };
    }

    private static double GeometricMeanSpeedup(CandidateResult result) => Math.Exp(result.Speedups.Average(Math.Log));

    internal static string Describe(AccuracyMetric metric) => metric switch
    {
        AccuracyMetric.Top1 => "top-1",
        AccuracyMetric.Cosine => "cosine",
        _ => "relative L2",
    };

    /// <summary>Maps the timer's progress into the last part of the run's.</summary>
    private sealed class Progress(IProgress<(string Step, double Done)>? inner, double from, double to) : IProgress<(string Step, double Done)>
    {
        public void Report((string Step, double Done) value) => inner?.Report((value.Step, from + ((to - from) * value.Done)));
    }
}
