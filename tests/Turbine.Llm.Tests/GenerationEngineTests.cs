using System.Threading.Channels;
using Turbine.Llm.Engine;
using Turbine.Llm.Sampling;
using Turbine.Onnx;
using Turbine.Onnx.Tools.Samples;

namespace Turbine.Llm.Tests;

/// <summary>
/// The engine over a real ONNX decoder (generated, random weights): every request's tokens in a continuous batch, with
/// requests joining and leaving at different steps, are the tokens it gets alone, greedy and seeded; shared prefixes are
/// served from the cache; a full cache preempts and recomputes without changing anything; cancellation frees blocks.
/// </summary>
public sealed class GenerationEngineTests : IDisposable
{
    private static readonly byte[] Model = DecoderModel.Build(new DecoderShape(Vocabulary: 1000, Width: 32, Layers: 2, Heads: 4, Context: 256));
    private readonly OnnxDecoderInstance _decoder = OnnxDecoderInstance.Load(Model);

    private static GenerationRequest Request(int[] prompt, int maxTokens, SamplingParameters? sampling = null) =>
        new(prompt, sampling ?? SamplingParameters.Greedy, maxTokens, new HashSet<int>());

    private static async Task<List<int>> ReadAllAsync(ChannelReader<GeneratedToken> reader)
    {
        var tokens = new List<int>();
        await foreach (var token in reader.ReadAllAsync())
        {
            tokens.Add(token.Token);
        }

        return tokens;
    }

    private async Task<List<int>> AloneAsync(GenerationRequest request)
    {
        using var engine = new GenerationEngine(_decoder, new EngineOptions(BlockTokens: 4, MaxContext: 256));
        return await ReadAllAsync(engine.Submit(request, CancellationToken.None));
    }

    [Fact]
    public async Task The_engine_counts_the_time_its_decoder_runs_for_cost_attribution()
    {
        using var engine = new GenerationEngine(_decoder, new EngineOptions(BlockTokens: 4, MaxContext: 256));
        var before = engine.Statistics.BusyNanoseconds;
        var clock = System.Diagnostics.Stopwatch.StartNew();

        await ReadAllAsync(engine.Submit(Request([5, 17, 42], 8, SamplingParameters.Greedy), CancellationToken.None));

        Assert.Equal(0, before);
        Assert.InRange(engine.Statistics.BusyNanoseconds, 1, clock.Elapsed.Ticks * 100);
    }

    public static TheoryData<string> Samplings() => ["greedy", "seeded"];

    [Theory]
    [MemberData(nameof(Samplings))]
    public async Task Requests_joining_and_leaving_a_running_batch_get_the_tokens_they_get_alone(string kind)
    {
        SamplingParameters Sampling(int seed) => kind == "greedy" ? SamplingParameters.Greedy : new SamplingParameters(Temperature: 0.8f, TopP: 0.9f, Seed: seed);
        GenerationRequest[] requests =
        [
            Request([5, 17, 42, 7, 99, 3, 250], 24, Sampling(1)),
            Request([9, 3], 6, Sampling(2)),
            Request([600, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 12, Sampling(3)),
            Request([5, 17, 42, 7, 11], 9, Sampling(4)),
        ];
        var alone = new List<List<int>>();
        foreach (var request in requests)
        {
            alone.Add(await AloneAsync(request));
        }

        using var engine = new GenerationEngine(_decoder, new EngineOptions(BlockTokens: 4, MaxContext: 256));
        var first = engine.Submit(requests[0], CancellationToken.None);
        var firstTokens = new List<int>();
        var others = new List<Task<List<int>>>();
        await foreach (var token in first.ReadAllAsync())
        {
            firstTokens.Add(token.Token);
            if (firstTokens.Count is 3 or 5 or 9)
            {
                // The others join while the first decodes; the second (6 tokens) leaves long before it ends.
                others.Add(ReadAllAsync(engine.Submit(requests[others.Count + 1], CancellationToken.None)));
            }
        }

        var together = new List<List<int>> { firstTokens };
        together.AddRange(await Task.WhenAll(others));
        Assert.Equal(alone, together);
        Assert.Equal(requests.Select(r => r.MaxTokens), together.Select(t => t.Count));
        Assert.True(engine.ContinuedSteps > 0, "decode steps over an unchanged batch take the previous output as their cache");
        Assert.True(engine.ContinuedSteps < engine.Steps, "joins and leaves gather the cache again");
    }

    [Fact]
    public async Task A_shared_prompt_prefix_is_served_from_the_cache_and_changes_nothing()
    {
        int[] system = [.. Enumerable.Range(100, 16)];
        var expected = await AloneAsync(Request([.. system, 1, 2], 5));
        using var engine = new GenerationEngine(_decoder, new EngineOptions(BlockTokens: 4, MaxContext: 256));
        await ReadAllAsync(engine.Submit(Request([.. system, 7, 7, 7], 5), CancellationToken.None));

        var tokens = await ReadAllAsync(engine.Submit(Request([.. system, 1, 2], 5), CancellationToken.None));

        Assert.Equal(expected, tokens);
        Assert.Equal(16, engine.Blocks.PrefixCache.Hits);
    }

    [Fact]
    public async Task A_cache_too_small_for_every_sequence_preempts_and_recomputes_without_changing_a_token()
    {
        GenerationRequest[] requests = [Request([1, 2, 3, 4, 5], 20), Request([6, 7, 8], 20), Request([9, 10, 11, 12], 20)];
        var alone = new List<List<int>>();
        foreach (var request in requests)
        {
            alone.Add(await AloneAsync(request));
        }

        // 12 blocks of 2 tokens hold 24 tokens: the three sequences want 72 by their end.
        var bytesPerToken = 2L * 2 * 32 * sizeof(float);
        using var engine = new GenerationEngine(_decoder, new EngineOptions(KvBudgetBytes: bytesPerToken * 24, BlockTokens: 2, MaxContext: 256));
        var together = await Task.WhenAll(requests.Select(r => ReadAllAsync(engine.Submit(r, CancellationToken.None))));

        Assert.Equal(alone, together);
        Assert.True(engine.Preemptions > 0);
        Assert.Equal(0, engine.Blocks.Usage, 6);
    }

    [Fact]
    public async Task A_cancelled_request_stops_between_steps_and_frees_its_blocks()
    {
        // The fifth forward pass waits at a gate, so the cancellation surely lands mid-generation.
        using var gated = new GatedDecoder(_decoder, holdAt: 5);
        using var engine = new GenerationEngine(gated, new EngineOptions(BlockTokens: 4, MaxContext: 256));
        using var cancel = new CancellationTokenSource();
        var reader = engine.Submit(Request([1, 2, 3], 200), cancel.Token);
        Assert.True(gated.Held.Wait(TimeSpan.FromSeconds(30)));
        await cancel.CancelAsync();
        gated.Release.Set();

        var received = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in reader.ReadAllAsync())
            {
                received++;
            }
        });

        Assert.Equal(5, received); // the pass in progress finishes and its token is sent; no pass after it runs
        Assert.Equal(0, engine.Blocks.Usage, 6);
    }

    [Fact]
    public async Task Statistics_count_tokens_and_finishes_and_time_each_token_on_the_engines_clock()
    {
        // Every forward pass takes 10 ms of the fake clock: a request alone gets its first token one pass after it is
        // submitted, and each next one a pass later.
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        using var timed = new ClockedDecoder(_decoder, clock, TimeSpan.FromMilliseconds(10));
        using var engine = new GenerationEngine(timed, new EngineOptions(BlockTokens: 4, MaxContext: 256), clock);

        var solo = await AloneAsync(Request([9, 8], 50));
        await ReadAllAsync(engine.Submit(Request([1, 2, 3, 4, 5], 6), CancellationToken.None));
        var stopped = await ReadAllAsync(engine.Submit(new GenerationRequest([9, 8], SamplingParameters.Greedy, 50, new HashSet<int> { solo[2] }), CancellationToken.None));
        Assert.Equal(solo.IndexOf(solo[2]) + 1, stopped.Count); // the stop token is reported as the last one

        var statistics = engine.Statistics;
        Assert.Equal(7, statistics.PromptTokens);
        Assert.Equal(6 + stopped.Count, statistics.GenerationTokens);
        Assert.Equal((1L, 1L, 0L), (statistics.FinishedLength, statistics.FinishedStop, statistics.Aborted));
        Assert.Equal(2, statistics.TimeToFirstToken.Count);
        Assert.Equal(20_000_000, statistics.TimeToFirstToken.Nanoseconds);
        Assert.Equal(5 + stopped.Count - 1, statistics.InterTokenLatency.Count);
        Assert.Equal(10_000_000L * statistics.InterTokenLatency.Count, statistics.InterTokenLatency.Nanoseconds);
        Assert.Equal(0, statistics.QueueTime.Nanoseconds);
        Assert.Equal((0, 0), (statistics.Running, statistics.Waiting));
    }

    /// <summary>A decoder each of whose forward passes moves a fake clock on.</summary>
    private sealed class ClockedDecoder(IDecoderInstance inner, Microsoft.Extensions.Time.Testing.FakeTimeProvider clock, TimeSpan pass) : IDecoderInstance
    {
        public DecoderSpec Spec => inner.Spec;

        public InferenceError? Run(DecoderStep step, out DecoderOutput? output)
        {
            clock.Advance(pass);
            return inner.Run(step, out output);
        }

        public void Dispose()
        {
        }
    }

    /// <summary>A decoder whose n-th forward pass waits until the test lets it go.</summary>
    private sealed class GatedDecoder(IDecoderInstance inner, int holdAt) : IDecoderInstance
    {
        private int _passes;

        public ManualResetEventSlim Held { get; } = new();

        public ManualResetEventSlim Release { get; } = new();

        public DecoderSpec Spec => inner.Spec;

        public InferenceError? Run(DecoderStep pass, out DecoderOutput? output)
        {
            if (++_passes == holdAt)
            {
                Held.Set();
                Release.Wait();
            }

            return inner.Run(pass, out output);
        }

        public void Dispose()
        {
            Held.Dispose();
            Release.Dispose();
        }
    }

    [Fact]
    public void Requests_that_can_never_fit_are_refused_at_once()
    {
        using var engine = new GenerationEngine(_decoder, new EngineOptions(BlockTokens: 4, MaxContext: 64));

        var tooLong = Assert.Throws<InferenceException>(() => engine.Submit(Request([.. Enumerable.Range(0, 60)], 10), CancellationToken.None));
        var empty = Assert.Throws<InferenceException>(() => engine.Submit(Request([], 10), CancellationToken.None));

        Assert.Contains("exceed the model's context of 64 tokens", tooLong.Message, StringComparison.Ordinal);
        Assert.Equal(StatusCode.InvalidArgument, empty.Error.Code);
    }

    public void Dispose() => _decoder.Dispose();
}
