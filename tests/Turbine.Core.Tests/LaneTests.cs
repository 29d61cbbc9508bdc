using Turbine.Core.Execution;
using Turbine.Onnx.Tools;

namespace Turbine.Core.Tests;

/// <summary>
/// The background lane: bulk work waits behind every online request, has its own bound and a cap on the rows it runs
/// at once, and never counts against online admission.
/// </summary>
public sealed class LaneTests : IAsyncLifetime
{
    private readonly GatedModels _gated = new();

    public async Task InitializeAsync()
    {
        _gated.Files
            .Add("one", SampleModels.Identity(DataType.Int32), """{ "max_batch_size": 0, "max_queue_size": 2, "background_lane": { "max_queue_size": 3 } }""")
            .Add("two", SampleModels.Identity(DataType.Int32), """{ "max_batch_size": 0, "instance_group": [{ "count": 2 }] }""")
            .Add("batched", SampleModels.Identity(DataType.Int32), """{ "max_batch_size": 8, "dynamic_batching": { "max_queue_delay_microseconds": 0 }, "background_lane": { "max_rows_in_flight": 8 } }""")
            .Add("one_row", SampleModels.Identity(DataType.Int32), """{ "max_batch_size": 8, "dynamic_batching": { "max_queue_delay_microseconds": 0 } }""");
        await _gated.LoadAsync();
    }

    public async Task DisposeAsync() => await _gated.DisposeAsync();

    [Fact]
    public async Task Background_requests_run_only_when_no_online_request_waits()
    {
        var blocker = await _gated.HoldWorkerAsync(() => InferAsync("one", 0));
        var first = InferAsync("one", 1, RequestLane.Background);
        var second = InferAsync("one", 2, RequestLane.Background);
        var online = InferAsync("one", 3);

        _gated.Backend.Gate.Set();
        await Task.WhenAll(blocker, first, second, online);

        Assert.Equal([0, 3, 1, 2], _gated.Backend.Runs.TakeLast(4).Select(run => run[0]));
    }

    [Fact]
    public async Task The_turbine_lane_parameter_puts_a_request_in_the_background_lane()
    {
        var blocker = await _gated.HoldWorkerAsync(() => InferAsync("one", 0));
        var background = InferAsync("one", 1, parameters: new() { ["turbine_lane"] = "background" });
        var online = InferAsync("one", 2, parameters: new() { ["turbine_lane"] = "online" });

        _gated.Backend.Gate.Set();
        await Task.WhenAll(blocker, background, online);

        Assert.Equal([0, 2, 1], _gated.Backend.Runs.TakeLast(3).Select(run => run[0]));
    }

    [Fact]
    public async Task A_background_backlog_never_gets_an_online_request_refused_and_has_a_bound_of_its_own()
    {
        var blocker = await _gated.HoldWorkerAsync(() => InferAsync("one", 0));
        var backlog = Enumerable.Range(10, 3).Select(i => InferAsync("one", i, RequestLane.Background)).ToArray();
        var overflow = await InferAsync("one", 13, RequestLane.Background);
        var online = new[] { InferAsync("one", 1), InferAsync("one", 2) }; // the online bound of 2 is still free
        var onlineOverflow = await InferAsync("one", 3);

        Assert.Equal(new InferenceError(StatusCode.Unavailable, "model 'one' version 1 background queue is full (3 requests); retry later"), overflow.Error);
        Assert.Equal(new InferenceError(StatusCode.Unavailable, "model 'one' version 1 queue is full (2 requests); retry later"), onlineOverflow.Error);
        Assert.Equal(5, Info("one").QueuedRequests);
        _gated.Backend.Gate.Set();
        await blocker;
        Assert.All(await Task.WhenAll([.. online, .. backlog]), answer => Assert.Null(answer.Error));
    }

    [Fact]
    public async Task Background_work_never_holds_every_instance()
    {
        // Two instances: by default background work may run on one of them at a time (one batch of rows).
        _gated.Backend.Gate.Reset();
        var background = Enumerable.Range(1, 3).Select(i => InferAsync("two", i, RequestLane.Background)).ToArray();
        Assert.True(await _gated.Backend.Entered.WaitAsync(TimeSpan.FromSeconds(30)));

        var online = InferAsync("two", 9);
        Assert.True(await _gated.Backend.Entered.WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal([1, 9], _gated.Backend.Runs.TakeLast(2).Select(run => run[0])); // the second instance went to the online request
        _gated.Backend.Gate.Set();
        Assert.All(await Task.WhenAll([online, .. background]), answer => Assert.Null(answer.Error));
        Assert.Equal([2, 3], _gated.Backend.Runs.TakeLast(2).Select(run => run[0]).Order());
    }

    [Fact]
    public async Task A_batch_holds_one_lane_and_online_rows_are_batched_first()
    {
        var blocker = await _gated.HoldWorkerAsync(() => InferAsync("batched", 0));
        var background = Enumerable.Range(10, 3).Select(i => InferAsync("batched", i, RequestLane.Background)).ToArray();
        var online = Enumerable.Range(1, 2).Select(i => InferAsync("batched", i)).ToArray();

        _gated.Backend.Gate.Set();
        await Task.WhenAll([blocker, .. online, .. background]);

        Assert.Equal([[1, 2], [10, 11, 12]], _gated.Backend.Runs.TakeLast(2).Select(run => run.Order().ToArray()));
    }

    [Fact]
    public async Task With_one_instance_background_rows_run_one_at_a_time_by_default()
    {
        var blocker = await _gated.HoldWorkerAsync(() => InferAsync("one_row", 0));
        var background = Enumerable.Range(10, 3).Select(i => InferAsync("one_row", i, RequestLane.Background)).ToArray();
        var online = Enumerable.Range(1, 2).Select(i => InferAsync("one_row", i)).ToArray();

        _gated.Backend.Gate.Set();
        await Task.WhenAll([blocker, .. online, .. background]);

        // An online request arriving meanwhile waits for one row's run, not a batch's.
        Assert.Equal([[1, 2], [10], [11], [12]], _gated.Backend.Runs.TakeLast(4).Select(run => run.Order().ToArray()));
    }

    private ModelVersionInfo Info(string model)
    {
        Assert.Null(_gated.Inference.Statistics(model, null, out var info));
        return info[0];
    }

    private async Task<Answer> InferAsync(string model, int value, RequestLane lane = RequestLane.Online, Dictionary<string, object>? parameters = null)
    {
        using var request = new InferenceRequest { ModelName = model, Lane = lane, Parameters = parameters };
        request.Inputs.Add(Tensor.FromArray<int>("INPUT0", [1, 1], [value]));
        var result = await _gated.Inference.InferAsync(request, CancellationToken.None);
        using var response = result.Response;
        return new Answer(result.Error);
    }

    private sealed record Answer(InferenceError? Error);
}
