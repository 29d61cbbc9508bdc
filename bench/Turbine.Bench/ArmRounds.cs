using Turbine.Cli.Bench;
using Turbine.Client;

namespace Turbine.Bench;

/// <summary>
/// Runs arms (ways of calling the same model) side by side: each warmed up, then one window each per round, so that
/// the per-round ratios against the first arm cancel most of the machine's drift. With <c>rotate</c> the order turns
/// each round, so no arm always runs first (after a pause) or last.
/// </summary>
internal static class ArmRounds
{
    public static async Task<List<WindowResult>[]> RunAsync(IReadOnlyList<Func<int, Task>> arms, int concurrency, TimeSpan window, int rounds, bool rotate = false)
    {
        foreach (var arm in arms)
        {
            await LoadGenerator.ClosedLoopAsync(concurrency, TimeSpan.FromSeconds(2), arm);
        }

        var windows = arms.Select(_ => new List<WindowResult>()).ToArray();
        for (var round = 0; round < rounds; round++)
        {
            Console.Error.WriteLine($"  round {round + 1}/{rounds}");
            for (var k = 0; k < arms.Count; k++)
            {
                var a = rotate ? (round + k) % arms.Count : k;
                windows[a].Add(await LoadGenerator.ClosedLoopAsync(concurrency, window, arms[a]));
            }
        }

        return windows;
    }

    /// <summary>
    /// The arms' table: medians of throughput and latency, and the median of the per-round throughput ratios against
    /// the first arm (each round pairs neighbouring windows, so the ratio cancels most of the machine's drift).
    /// </summary>
    public static void AppendTable(System.Text.StringBuilder text, string armHeading, string reference, IReadOnlyList<string> labels, List<WindowResult>[] windows)
    {
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        text.AppendLine(culture, $"| {armHeading} | req/s | p50 ms | p99 ms | errors | vs {reference} (median of per-round ratios) |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|");
        for (var a = 0; a < labels.Count; a++)
        {
            var ratio = Medians.Of(windows[0].Zip(windows[a], (d, r) => r.Throughput / d.Throughput));
            text.AppendLine(culture,
                $"| {labels[a]} | {Medians.Of(windows[a].Select(w => w.Throughput)):F0} | {Medians.Of(windows[a].Select(w => w.P50Ms)):F2} | " +
                $"{Medians.Of(windows[a].Select(w => w.P99Ms)):F2} | {windows[a].Sum(w => w.Errors)} | **{ratio:F3}x** ({(1 - ratio) * 100:F1}% lost) |");
        }
    }

    /// <summary>An arm that sends the same gRPC request to <paramref name="name"/>, its input named <paramref name="input"/>.</summary>
    public static Func<int, Task> GrpcCaller(TurbineGrpcClient client, BenchModel model, string name, string input)
    {
        var request = new InferenceRequest { ModelName = name };
        request.Inputs.Add(Tensor.FromArray(input, model.Shape, model.Input.AsSpan()));
        return async _ =>
        {
            using var response = await client.InferAsync(request);
        };
    }
}
