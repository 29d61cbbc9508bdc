using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.ML.OnnxRuntime;
using Turbine.Llm.Engine;
using Turbine.Llm.Sampling;
using Turbine.Onnx;
using Turbine.Onnx.Tools.Samples;

namespace Turbine.Bench;

/// <summary>
/// Issue 16's engine targets, in process over a generated decoder (random weights, the GPT-2 vocabulary): (1) tokens/s
/// and TTFT/ITL at 1, 4, 16 and 64 concurrent streams against the same requests served one at a time (target: at least
/// 3x at 16); (2) TTFT with a shared 512-token prefix on a cache hit against a miss (target: at least 3x lower); (3) time
/// per token at batch 1 against a bare loop that feeds ONNX Runtime its own present tensors (target: within 15%).
/// </summary>
internal static class GenerationScenario
{
    private static readonly DecoderShape Shape = new(Vocabulary: 50_257, Width: 128, Layers: 4, Heads: 4, Context: 1024);

    public static async Task<string> RunAsync(int promptTokens, int maxTokens, int rounds)
    {
        var model = DecoderModel.Build(Shape);
        using var decoder = OnnxDecoderInstance.Load(model, Turbine.Onnx.OnnxRuntimeSettings.Default with { IntraOpThreads = Environment.ProcessorCount });
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"generated decoder: vocabulary {Shape.Vocabulary}, width {Shape.Width}, {Shape.Layers} layers, {Shape.Heads} heads; prompts of {promptTokens} tokens, {maxTokens} generated, greedy; {rounds} rounds, medians; {Environment.ProcessorCount} cores, {TimeProvider.System.GetUtcNow():yyyy-MM-dd}");
        text.AppendLine();
        text.AppendLine("| streams | tokens/s | vs one at a time | TTFT p50 / p99 ms | ITL p50 / p99 ms |");
        text.AppendLine("|---:|---:|---:|---|---|");
        var sequential = Medians.Of(await RepeatAsync(rounds, () => OneAtATimeAsync(decoder, 16, promptTokens, maxTokens)));
        text.AppendLine(CultureInfo.InvariantCulture, $"| 16, one at a time | {sequential:F0} | 1.00x | | |");
        foreach (var streams in new[] { 1, 4, 16, 64 })
        {
            var runs = new List<StreamsResult>();
            for (var round = 0; round < rounds; round++)
            {
                Console.Error.WriteLine($"  {streams} streams, round {round + 1}/{rounds}");
                runs.Add(await ConcurrentAsync(decoder, streams, promptTokens, maxTokens));
            }

            var rate = Medians.Of(runs.Select(r => r.TokensPerSecond));
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {streams} | {rate:F0} | {rate / sequential:F2}x | {Medians.Of(runs.Select(r => r.TtftP50)):F1} / {Medians.Of(runs.Select(r => r.TtftP99)):F1} | {Medians.Of(runs.Select(r => r.ItlP50)):F2} / {Medians.Of(runs.Select(r => r.ItlP99)):F2} |");
        }

        text.AppendLine();
        text.AppendLine("Through the server (streamed `/v1/completions` over HTTP, the same prompts as token ids, tokens counted from each answer's usage):");
        text.AppendLine();
        text.AppendLine("| streams | tokens/s over HTTP | TTFT p50 ms |");
        text.AppendLine("|---:|---:|---:|");
        foreach (var streams in new[] { 1, 16 })
        {
            var runs = new List<(double Rate, double Ttft)>();
            for (var round = 0; round < rounds; round++)
            {
                Console.Error.WriteLine($"  {streams} streams over HTTP, round {round + 1}/{rounds}");
                runs.Add(await GenerationHttp.RunAsync(Shape, streams, promptTokens, maxTokens));
            }

            text.AppendLine(CultureInfo.InvariantCulture, $"| {streams} | {Medians.Of(runs.Select(r => r.Rate)):F0} | {Medians.Of(runs.Select(r => r.Ttft)):F1} |");
        }

        var (miss, hit) = await PrefixAsync(decoder, rounds);
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"prefix cache, 512 shared tokens + 16 own: TTFT on a miss {miss:F1} ms, on a hit {hit:F1} ms: **{miss / hit:F2}x lower** (target: at least 3x)");
        var engine = Medians.Of(await RepeatAsync(rounds, () => EngineMsPerTokenAsync(decoder, promptTokens, maxTokens)));
        var bare = Medians.Of(await RepeatAsync(rounds, () => Task.FromResult(BareMsPerToken(model, promptTokens, maxTokens))));
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"batch 1, time per token: engine {engine:F3} ms, bare ONNX Runtime loop {bare:F3} ms: **{engine / bare:F2}x** (target: within 1.15x)");
        return text.ToString();
    }

    private sealed record StreamsResult(double TokensPerSecond, double TtftP50, double TtftP99, double ItlP50, double ItlP99);

    private static async Task<List<double>> RepeatAsync(int rounds, Func<Task<double>> run)
    {
        var results = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            results.Add(await run());
        }

        return results;
    }

    private static int[] Prompt(int seed, int length)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, length).Select(_ => random.Next(256, 50_000))];
    }

    private static GenerationRequest Request(int[] prompt, int maxTokens) => new(prompt, SamplingParameters.Greedy, maxTokens, new HashSet<int>());

    private static GenerationEngine Engine(IDecoderInstance decoder) => new(decoder, new EngineOptions(KvBudgetBytes: 256L << 20, BlockTokens: 16, MaxBatch: 64, MaxContext: 1024));

    private static async Task<double> OneAtATimeAsync(IDecoderInstance decoder, int requests, int promptTokens, int maxTokens)
    {
        using var engine = Engine(decoder);
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < requests; i++)
        {
            await foreach (var _ in engine.Submit(Request(Prompt(i, promptTokens), maxTokens), CancellationToken.None).ReadAllAsync())
            {
            }
        }

        return requests * maxTokens / watch.Elapsed.TotalSeconds;
    }

    private static async Task<StreamsResult> ConcurrentAsync(IDecoderInstance decoder, int streams, int promptTokens, int maxTokens)
    {
        using var engine = Engine(decoder);
        var ttft = new List<double>();
        var itl = new List<double>();
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, streams).Select(async i =>
        {
            var start = Stopwatch.GetTimestamp();
            var last = start;
            var first = true;
            var gaps = new List<double>();
            await foreach (var _ in engine.Submit(Request(Prompt(i, promptTokens), maxTokens), CancellationToken.None).ReadAllAsync())
            {
                var now = Stopwatch.GetTimestamp();
                if (first)
                {
                    lock (ttft)
                    {
                        ttft.Add(Stopwatch.GetElapsedTime(start, now).TotalMilliseconds);
                    }

                    first = false;
                }
                else
                {
                    gaps.Add(Stopwatch.GetElapsedTime(last, now).TotalMilliseconds);
                }

                last = now;
            }

            lock (itl)
            {
                itl.AddRange(gaps);
            }
        }));
        var seconds = watch.Elapsed.TotalSeconds;
        return new StreamsResult(streams * maxTokens / seconds, Percentile(ttft, 0.5), Percentile(ttft, 0.99), Percentile(itl, 0.5), Percentile(itl, 0.99));
    }

    private static async Task<(double Miss, double Hit)> PrefixAsync(IDecoderInstance decoder, int rounds)
    {
        var misses = new List<double>();
        var hits = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            using var engine = Engine(decoder);
            var shared = Prompt(1000 + round, 512);
            misses.Add(await FirstTokenMsAsync(engine, [.. shared, .. Prompt(1, 16)]));
            hits.Add(await FirstTokenMsAsync(engine, [.. shared, .. Prompt(2, 16)]));
        }

        return (Medians.Of(misses), Medians.Of(hits));
    }

    private static async Task<double> FirstTokenMsAsync(GenerationEngine engine, int[] prompt)
    {
        var start = Stopwatch.GetTimestamp();
        await foreach (var _ in engine.Submit(Request(prompt, 1), CancellationToken.None).ReadAllAsync())
        {
        }

        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private static async Task<double> EngineMsPerTokenAsync(IDecoderInstance decoder, int promptTokens, int maxTokens)
    {
        using var engine = Engine(decoder);
        var timestamps = new List<long>();
        await foreach (var _ in engine.Submit(Request(Prompt(7, promptTokens), maxTokens), CancellationToken.None).ReadAllAsync())
        {
            timestamps.Add(Stopwatch.GetTimestamp());
        }

        return Stopwatch.GetElapsedTime(timestamps[0], timestamps[^1]).TotalMilliseconds / (timestamps.Count - 1);
    }

    /// <summary>Decoding with ONNX Runtime alone: each step's present tensors fed back as the next past, argmax in place.</summary>
    private static double BareMsPerToken(byte[] model, int promptTokens, int maxTokens)
    {
        using var options = new Microsoft.ML.OnnxRuntime.SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        using var session = new InferenceSession(model, options);
        using var runOptions = new RunOptions();
        var names = session.InputNames.ToArray();
        var outputs = session.OutputNames.ToArray();
        var tokens = Prompt(7, promptTokens).Select(t => (long)t).ToList();
        var pasts = Enumerable.Range(0, Shape.Layers * 2).Select(_ => OrtValue.CreateTensorValueFromMemory(Array.Empty<float>(), [1, Shape.Heads, 0, Shape.HeadWidth])).ToList();
        var newTokens = tokens.ToArray();
        var times = new List<long>();
        for (var step = 0; step < maxTokens; step++)
        {
            var total = tokens.Count;
            var positions = Enumerable.Range(total - newTokens.Length, newTokens.Length).Select(p => (long)p).ToArray();
            using var ids = OrtValue.CreateTensorValueFromMemory(newTokens, [1, newTokens.Length]);
            using var mask = OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat(1L, total).ToArray(), [1, total]);
            using var position = OrtValue.CreateTensorValueFromMemory(positions, [1, newTokens.Length]);
            var results = session.Run(runOptions, names, [ids, mask, position, .. pasts], outputs);
            var logits = results[0].GetTensorDataAsSpan<float>()[^Shape.Vocabulary..];
            var best = 0;
            for (var i = 1; i < logits.Length; i++)
            {
                best = logits[i] > logits[best] ? i : best;
            }

            foreach (var past in pasts)
            {
                past.Dispose();
            }

            pasts = [.. results.Skip(1)];
            results[0].Dispose();
            tokens.Add(best);
            newTokens = [best];
            times.Add(Stopwatch.GetTimestamp());
        }

        foreach (var past in pasts)
        {
            past.Dispose();
        }

        return Stopwatch.GetElapsedTime(times[0], times[^1]).TotalMilliseconds / (times.Count - 1);
    }

    private static double Percentile(List<double> values, double share)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)(share * sorted.Count))];
    }
}
