using System.Globalization;
using Turbine.Client;

namespace Turbine.Cli.Bench;

/// <summary>
/// Runs each load level of <see cref="BenchSettings"/>: a warm-up, then windows until three in a row agree (or the
/// cap), reporting the median of the last three; the server's statistics are read before and after each level.
/// </summary>
internal sealed class BenchRunner(ITurbineClient client, BenchSettings settings, InferenceRequest request, ProgressLine progress)
{
    private readonly Random _random = new(17);

    public async Task<IReadOnlyList<StepResult>> RunAsync(CancellationToken cancellationToken)
    {
        var results = new List<StepResult>();
        var loads = settings.OpenLoop ? settings.Rates : settings.Concurrency.Select(c => (double)c).ToList();
        foreach (var load in loads)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var label = settings.OpenLoop ? $"rate {load.ToString("G", CultureInfo.InvariantCulture)}/s ({settings.Arrivals})" : $"concurrency {load}";
            progress.Update($"{label}: warming up for {settings.WarmUp.TotalSeconds:G} s");
            await MeasureAsync(load, settings.WarmUp);

            var before = await ServerStatisticsAsync(cancellationToken);
            var windows = new List<WindowResult>();
            while (windows.Count < settings.MaxWindows && !WindowResult.LastThreeAgree(windows, settings.Stability))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var window = await MeasureAsync(load, settings.Window);
                windows.Add(window);
                progress.Update($"{label}: window {windows.Count}: {window.Throughput:F0} req/s, p50 {window.P50Ms:F2} ms, p99 {window.P99Ms:F2} ms, {window.Errors} errors");
            }

            var after = await ServerStatisticsAsync(cancellationToken);
            var stable = WindowResult.LastThreeAgree(windows, settings.Stability);
            var median = WindowResult.MedianOfLastThree(windows);
            var step = Step(load, median, windows.Count, stable, before, after);
            results.Add(step);
            progress.Done($"{label}: {median.Throughput:F0} req/s, p99 {median.P99Ms:F2} ms{(stable ? string.Empty : " (not stable)")}");
        }

        return results;
    }

    private Task<WindowResult> MeasureAsync(double load, TimeSpan duration) => settings.OpenLoop
        ? LoadGenerator.OpenLoopAsync(load, settings.Arrivals, duration, CallAsync, _random)
        : LoadGenerator.ClosedLoopAsync((int)load, duration, CallAsync);

    private async Task CallAsync(int caller)
    {
        using var response = await client.InferAsync(request);
    }

    private async Task<ModelStatisticsSummary?> ServerStatisticsAsync(CancellationToken cancellationToken)
    {
        try
        {
            var statistics = await client.GetModelStatisticsAsync(settings.Model, settings.Version, cancellationToken);
            return statistics.Count == 1 ? statistics[0] : null;
        }
        catch (TurbineClientException)
        {
            return null; // a server without the statistics extension: report the client side only
        }
    }

    private StepResult Step(double load, WindowResult client, int windows, bool stable, ModelStatisticsSummary? before, ModelStatisticsSummary? after)
    {
        double queueUs = double.NaN, computeUs = double.NaN, rows = double.NaN;
        if (before is not null && after is not null && after.SuccessCount > before.SuccessCount && after.ExecutionCount > before.ExecutionCount)
        {
            var executions = after.ExecutionCount - before.ExecutionCount;
            queueUs = (after.QueueNanoseconds - before.QueueNanoseconds) / 1000.0 / (after.SuccessCount - before.SuccessCount);
            computeUs = (after.ComputeInferNanoseconds - before.ComputeInferNanoseconds) / 1000.0 / executions;
            rows = (double)(after.InferenceCount - before.InferenceCount) / executions;
        }

        return new StepResult(settings.Protocol, settings.OpenLoop ? "rate" : "concurrency", load, client, windows, stable, queueUs, computeUs, rows);
    }
}
