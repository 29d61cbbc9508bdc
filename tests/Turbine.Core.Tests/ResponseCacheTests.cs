using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Turbine.Core.Caching;
using Turbine.Core.Execution;
using Turbine.Core.Lifecycle;
using Turbine.Core.Repository;
using Turbine.Onnx;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.Core.Tests;

public sealed class ResponseCacheTests : IAsyncDisposable
{
    private const string Cached = """{ "max_batch_size": 8, "response_cache": { "enable": true }, "version_policy": { "all": {} } }""";
    private readonly TestRepository _files = new();
    private readonly ResponseCache _cache = new(1024 * 1024);
    private readonly FakeTimeProvider _time = new();
    private readonly ModelManager _models;
    private readonly ModelExecutor _inference;

    public ResponseCacheTests()
    {
        _models = new ModelManager(new ModelRepository(_files.Root), BackendRegistry.Of(new OnnxBackend()), _time, NullLogger<ModelManager>.Instance);
        _inference = new ModelExecutor(_models, _cache, _time);
    }

    public async ValueTask DisposeAsync()
    {
        await _models.DisposeAsync();
        _files.Dispose();
    }

    [Fact]
    public async Task A_repeated_request_is_answered_from_the_cache_bit_for_bit_without_running_the_model()
    {
        await AddAsync("cached", Cached);
        var first = await OutputsAsync("cached", [1, 2, 3, 4]);

        var second = await OutputsAsync("cached", [1, 2, 3, 4]);
        var other = await OutputsAsync("cached", [4, 3, 2, 1]);
        var priority = await OutputsAsync("cached", [1, 2, 3, 4], ("priority", 1L));
        var parameter = await OutputsAsync("cached", [1, 2, 3, 4], ("temperature", 0.5));

        var statistics = _models.Snapshot("cached")!.Runner(1)!.Statistics;
        Assert.Equal(first, second);
        Assert.NotEqual(first, other);
        Assert.Equal(first, priority);
        Assert.Equal(3, statistics.ExecutionCount); // first, other and the one with a parameter that can change the answer
        Assert.Equal(2, statistics.CacheHit.Count);
        Assert.Equal(3, statistics.CacheMiss.Count);
        Assert.Equal(3, _cache.Count);
        Assert.Equal(0, statistics.CacheHit.Nanoseconds); // timed on the injected clock, which never moved
    }

    [Fact]
    public async Task Versions_never_share_answers_and_models_that_do_not_enable_the_cache_never_use_it()
    {
        await AddAsync("cached", Cached);
        _files.Add("cached", SampleModels.AddSub(DataType.Int32, 4), version: 2);
        await _models.LoadAsync("cached", CancellationToken.None);
        await AddAsync("plain", """{ "max_batch_size": 8 }""");

        await OutputsAsync("cached", [1, 2, 3, 4], version: "1");
        await OutputsAsync("cached", [1, 2, 3, 4], version: "2");
        await OutputsAsync("plain", [1, 2, 3, 4]);
        await OutputsAsync("plain", [1, 2, 3, 4]);

        Assert.Equal(1, _models.Snapshot("cached")!.Runner(2)!.Statistics.ExecutionCount);
        Assert.Equal(0, _models.Snapshot("cached")!.Runner(2)!.Statistics.CacheHit.Count);
        Assert.Equal(2, _models.Snapshot("plain")!.Runner(1)!.Statistics.ExecutionCount);
        Assert.Equal(2, _cache.Count);
    }

    [Fact]
    public async Task A_version_reloaded_in_place_never_answers_with_the_previous_loads_outputs()
    {
        await AddAsync("cached", Cached);
        var before = await OutputsAsync("cached", [1, 2, 3, 4]);
        var swapped = new OnnxModelBuilder("sub_add") // the same signature, the other answers
            .Input("INPUT0", DataType.Int32, -1, 4)
            .Input("INPUT1", DataType.Int32, -1, 4)
            .Node("Sub", ["INPUT0", "INPUT1"], ["OUTPUT0"])
            .Node("Add", ["INPUT0", "INPUT1"], ["OUTPUT1"])
            .Output("OUTPUT0", DataType.Int32, -1, 4)
            .Output("OUTPUT1", DataType.Int32, -1, 4)
            .ToBytes();
        _files.Add("cached", swapped);
        File.SetLastWriteTimeUtc(Path.Combine(_files.Root, "cached", "1", "model.onnx"), new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc)); // a write time the first file did not have
        Assert.Null(await _models.LoadAsync("cached", CancellationToken.None));

        var after = await OutputsAsync("cached", [1, 2, 3, 4]);

        Assert.Equal("OUTPUT0=11,22,33,44;OUTPUT1=-9,-18,-27,-36", before);
        Assert.Equal("OUTPUT0=-9,-18,-27,-36;OUTPUT1=11,22,33,44", after);
        Assert.Equal(1, _models.Snapshot("cached")!.Runner(1)!.Statistics.ExecutionCount);
    }

    [Fact]
    public void The_least_recently_used_answers_go_first_when_the_budget_is_spent()
    {
        var cache = new ResponseCache(1000);
        using var output = Tensor.FromArray<byte>("y", [300], new byte[300]);

        cache.Put("a", [output]);
        cache.Put("b", [output]);
        Assert.True(cache.TryGet("a", out var hit)); // a is now fresher than b
        hit.ForEach(t => t.Dispose());
        cache.Put("c", [output]);

        Assert.True(cache.Bytes <= 1000);
        Assert.False(cache.TryGet("b", out _));
        Assert.True(cache.TryGet("a", out _));
        Assert.True(cache.TryGet("c", out _));
        using var huge = Tensor.FromArray<byte>("y", [5000], new byte[5000]);
        cache.Put("huge", [huge]);
        Assert.False(cache.TryGet("huge", out _));
    }

    private async Task AddAsync(string name, string config)
    {
        _files.Add(name, SampleModels.AddSub(DataType.Int32, 4), config);
        Assert.Null(await _models.LoadAsync(name, CancellationToken.None));
    }

    private async Task<string> OutputsAsync(string model, int[] input, (string Name, object Value)? parameter = null, string? version = null)
    {
        using var request = new InferenceRequest { ModelName = model, ModelVersion = version };
        request.Inputs.Add(Tensor.FromArray<int>("INPUT0", [1, 4], input));
        request.Inputs.Add(Tensor.FromArray<int>("INPUT1", [1, 4], [10, 20, 30, 40]));
        if (parameter is { } p)
        {
            request.Parameters = new() { [p.Name] = p.Value };
        }

        var result = await _inference.InferAsync(request, CancellationToken.None);
        Assert.Null(result.Error);
        using var response = result.Response!;
        return string.Join(";", response.Outputs.Select(o => o.Name + "=" + string.Join(",", o.ToArray<int>())));
    }

    [Fact]
    public void Answers_for_the_shared_store_round_trip_and_damaged_bytes_read_as_a_miss()
    {
        using var numbers = Tensor.FromArray<float>("probs", [2, 3], [0.1f, 0.2f, 0.7f, 0.3f, 0.3f, 0.4f]);
        using var words = Tensor.FromStrings("label", [2], ["cat", "dog"]);
        var bytes = CachedOutputsCodec.Encode([numbers, words]);

        Assert.True(CachedOutputsCodec.TryDecode(bytes, out var decoded));
        Assert.Equal(["probs", "label"], decoded.Select(t => t.Name));
        Assert.Equal(numbers.Data.Span.ToArray(), decoded[0].Data.Span.ToArray());
        Assert.Equal([2L], decoded[1].Shape);
        Assert.Equal(DataType.Bytes, decoded[1].DataType);
        decoded.ForEach(t => t.Dispose());

        for (var cut = 0; cut < bytes.Length; cut++)
        {
            Assert.False(CachedOutputsCodec.TryDecode(bytes.AsSpan(0, cut), out var partial));
            Assert.Empty(partial);
        }

        var random = new Random(7);
        for (var i = 0; i < 500; i++)
        {
            var noise = bytes.ToArray();
            noise[random.Next(noise.Length)] ^= (byte)(1 << random.Next(8));
            if (CachedOutputsCodec.TryDecode(noise, out var flipped))
            {
                flipped.ForEach(t => t.Dispose()); // a flipped data byte still decodes; a flipped length or type never throws
            }
        }
    }
}
