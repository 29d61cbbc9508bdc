using Turbine.Core.Execution;
using Turbine.Core.Repository;
using Turbine.Onnx.Tools;

namespace Turbine.Core.Tests;

public sealed class DynamicBatchingTests : IAsyncLifetime
{
    private const string Batched = """{ "max_batch_size": 8, "dynamic_batching": { "max_queue_delay_microseconds": 0 } }""";
    private readonly GatedModels _gated = new();

    public async Task InitializeAsync()
    {
        _gated.Files.Add("mlp", SampleModels.Mlp(), Batched)
              .Add("mlp_single", SampleModels.Mlp(), """{ "max_batch_size": 8 }""")
              .Add("strings", SampleModels.Identity(DataType.Bytes), Batched)
              .Add("small", SampleModels.Identity(DataType.Int32), """{ "max_batch_size": 4, "dynamic_batching": { } }""")
              .Add("delayed", SampleModels.Identity(DataType.Int32), """{ "max_batch_size": 8, "dynamic_batching": { "preferred_batch_size": [4], "max_queue_delay_microseconds": 1000 } }""")
              .Add("preferred", SampleModels.Identity(DataType.Int32), """{ "max_batch_size": 8, "dynamic_batching": { "preferred_batch_size": [2], "max_queue_delay_microseconds": 10000000 } }""");
        await _gated.LoadAsync();
    }

    public async Task DisposeAsync() => await _gated.DisposeAsync();

    [Fact]
    public async Task Batched_outputs_equal_unbatched_outputs_bit_for_bit()
    {
        var random = new Random(3);
        var rows = new[] { 1, 2, 1, 3 };
        var features = rows.Select(r => Enumerable.Range(0, r * 4).Select(_ => (float)(random.NextDouble() * 10 - 5)).ToArray()).ToArray();
        var expected = new List<(byte[] Probabilities, byte[] Labels)>();
        foreach (var (r, values) in rows.Zip(features))
        {
            using var alone = (await InferAsync("mlp_single", Tensor.FromArray<float>("features", [r, 4], values))).Response!;
            expected.Add((alone.Outputs[0].Data.Span.ToArray(), alone.Outputs[1].Data.Span.ToArray()));
        }

        var executions = _gated.Statistics("mlp").ExecutionCount;
        var blocker = await _gated.HoldWorkerAsync(() => InferAsync("mlp", Tensor.FromArray<float>("features", [1, 4], new float[4])));
        var batched = rows.Zip(features).Select(p => InferAsync("mlp", Tensor.FromArray<float>("features", [p.First, 4], p.Second))).ToArray();
        _gated.Backend.Gate.Set();
        await blocker;

        for (var k = 0; k < rows.Length; k++)
        {
            using var response = (await batched[k]).Response!;
            Assert.Equal([rows[k], 3L], response.Outputs[0].Shape);
            Assert.Equal(expected[k].Probabilities, response.Outputs[0].Data.Span.ToArray());
            Assert.Equal(expected[k].Labels, response.Outputs[1].Data.Span.ToArray());
        }

        Assert.Equal(executions + 2, _gated.Statistics("mlp").ExecutionCount); // the blocker alone, then all four together
        var stats = _gated.Statistics("mlp");
        Assert.Equal(1, stats.Batches[7].ComputeInfer.Count);
    }

    [Fact]
    public async Task A_batch_never_exceeds_max_batch_size_in_rows()
    {
        var blocker = await _gated.HoldWorkerAsync(() => InferAsync("small", Tensor.FromArray<int>("INPUT0", [1, 2], [0, 0])));
        var requests = new[] { 3, 2, 2, 1 }.Select(r => InferAsync("small", Tensor.FromArray("INPUT0", [r, 2], Enumerable.Range(r * 100, r * 2).ToArray().AsSpan()))).ToArray();
        _gated.Backend.Gate.Set();
        await blocker;

        foreach (var (task, r) in requests.Zip(new[] { 3, 2, 2, 1 }))
        {
            using var response = (await task).Response!;
            Assert.Equal(Enumerable.Range(r * 100, r * 2), response.Outputs[0].ToArray<int>());
        }

        var stats = _gated.Statistics("small");
        Assert.All(stats.Batches.Keys, size => Assert.True(size <= 4));
        Assert.Equal(1, stats.Batches[3].ComputeInfer.Count); // 3 alone (3 + 2 > 4)
        Assert.Equal(1, stats.Batches[4].ComputeInfer.Count); // 2 + 2
    }

    [Fact]
    public async Task Requests_whose_other_dimensions_differ_run_on_their_own()
    {
        var blocker = await _gated.HoldWorkerAsync(() => InferAsync("small", Tensor.FromArray<int>("INPUT0", [1, 2], [0, 0])));
        var wide = InferAsync("small", Tensor.FromArray<int>("INPUT0", [1, 3], [1, 2, 3]));
        var narrow = InferAsync("small", Tensor.FromArray<int>("INPUT0", [1, 2], [4, 5]));
        _gated.Backend.Gate.Set();
        await blocker;

        using var wideResponse = (await wide).Response!;
        using var narrowResponse = (await narrow).Response!;
        Assert.Equal([1, 2, 3], wideResponse.Outputs[0].ToArray<int>());
        Assert.Equal([4, 5], narrowResponse.Outputs[0].ToArray<int>());
        var stats = _gated.Statistics("small");
        Assert.Equal(3, stats.ExecutionCount);
    }

    [Fact]
    public async Task Bytes_tensors_batch_and_split_by_element()
    {
        var blocker = await _gated.HoldWorkerAsync(() => InferAsync("strings", Tensor.FromStrings("INPUT0", [1, 1], ["x"])));
        var first = InferAsync("strings", Tensor.FromStrings("INPUT0", [2, 2], ["a", "bb", "", "dddd"]));
        var second = InferAsync("strings", Tensor.FromStrings("INPUT0", [1, 2], ["é", "ff"]));
        _gated.Backend.Gate.Set();
        await blocker;

        using var a = (await first).Response!;
        using var b = (await second).Response!;
        Assert.Equal(["a", "bb", "", "dddd"], a.Outputs[0].ToStrings());
        Assert.Equal([2L, 2L], a.Outputs[0].Shape);
        Assert.Equal(["é", "ff"], b.Outputs[0].ToStrings());
        var stats = _gated.Statistics("strings");
        Assert.Equal(1, stats.Batches[3].ComputeInfer.Count);
    }

    [Fact]
    public async Task A_lone_request_waits_the_queue_delay_and_no_longer()
    {
        var lone = InferAsync("delayed", Tensor.FromArray<int>("INPUT0", [1, 1], [7]));

        _gated.Time.Advance(TimeSpan.FromMicroseconds(999));
        Assert.False(await _gated.Backend.Entered.WaitAsync(TimeSpan.FromMilliseconds(100)));
        _gated.Time.Advance(TimeSpan.FromMicroseconds(1));

        using var response = (await lone).Response!;
        Assert.Equal(new[] { 7 }, response.Outputs[0].ToArray<int>());
    }

    [Fact]
    public async Task Reaching_the_preferred_batch_size_runs_at_once_without_the_delay()
    {
        var first = InferAsync("preferred", Tensor.FromArray<int>("INPUT0", [1, 1], [1]));
        var second = InferAsync("preferred", Tensor.FromArray<int>("INPUT0", [1, 1], [2]));

        using var a = (await first).Response!;
        using var b = (await second).Response!;
        Assert.Equal(new[] { 1 }, a.Outputs[0].ToArray<int>());
        Assert.Equal(new[] { 2 }, b.Outputs[0].ToArray<int>());
        var stats = _gated.Statistics("preferred");
        Assert.Equal(1, stats.Batches[2].ComputeInfer.Count);
    }

    [Fact]
    public void Scheduling_options_out_of_range_are_all_reported()
    {
        _gated.Files.Add("bad", SampleModels.Identity(DataType.Int32, 2, 2), """
            {
              "max_batch_size": 0,
              "dynamic_batching": {
                "preferred_batch_size": [0, 9], "max_queue_delay_microseconds": -1,
                "priority_levels": 2, "default_priority_level": 3, "max_latency_ms": -5,
                "priority_queue_policy": { "4": { "max_queue_size": -1 }, "top": {} }
              }
            }
            """);

        var definition = new ModelRepository(_gated.Files.Root).Read("bad", BackendRegistry.Of(_gated.Backend));

        Assert.Equal(
            [
                "'dynamic_batching.priority_queue_policy' has key 'top'; keys must be priority levels (1, 2, ...)",
                "'dynamic_batching.preferred_batch_size' 0 must be between 1 and max_batch_size (0)",
                "'dynamic_batching.preferred_batch_size' 9 must be between 1 and max_batch_size (0)",
                "'dynamic_batching.max_queue_delay_microseconds' must be between 0 and 10000000, got -1",
                "'dynamic_batching.default_priority_level' must be between 1 and priority_levels (2), got 3",
                "'dynamic_batching.priority_queue_policy' names level 4; levels run from 1 to priority_levels (2)",
                "'dynamic_batching.priority_queue_policy.4.max_queue_size' must be >= 0",
                "'dynamic_batching.max_latency_ms' must be between 0 and 600000, got -5",
            ],
            definition.Errors);
    }

    private async Task<InferenceResult> InferAsync(string model, Tensor input)
    {
        using var request = new InferenceRequest { ModelName = model };
        request.Inputs.Add(input);
        var result = await _gated.Inference.InferAsync(request, CancellationToken.None);
        Assert.Null(result.Error);
        return result;
    }
}
