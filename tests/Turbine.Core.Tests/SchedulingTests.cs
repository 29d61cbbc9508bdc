using Turbine.Core.Execution;
using Turbine.Onnx.Tools;

namespace Turbine.Core.Tests;

/// <summary>Priority levels, per-level bounds, DELAY, cancellation and preserve_ordering, on a held worker and a fake clock.</summary>
public sealed class SchedulingTests : IAsyncLifetime
{
    private readonly GatedModels _gated = new();

    public async Task InitializeAsync()
    {
        _gated.Files
            .Add("prio", SampleModels.Identity(DataType.Int32), """
                { "max_batch_size": 0, "dynamic_batching": { "priority_levels": 2, "default_priority_level": 2, "priority_queue_policy": { "2": { "max_queue_size": 2 } } } }
                """)
            .Add("delay", SampleModels.Identity(DataType.Int32), """
                { "max_batch_size": 0, "dynamic_batching": { "default_queue_policy": { "default_timeout_microseconds": 1000, "timeout_action": "DELAY" } } }
                """)
            .Add("bounded", SampleModels.Identity(DataType.Int32), """{ "max_batch_size": 0, "max_queue_size": 1 }""")
            .Add("ordered", SampleModels.Identity(DataType.Int32), """
                { "max_batch_size": 0, "instance_group": [{ "count": 2 }], "dynamic_batching": { "preserve_ordering": true } }
                """)
            .Add("unordered", SampleModels.Identity(DataType.Int32), """{ "max_batch_size": 0, "instance_group": [{ "count": 2 }] }""");
        await _gated.LoadAsync();
    }

    public async Task DisposeAsync() => await _gated.DisposeAsync();

    [Fact]
    public async Task Higher_priority_requests_run_first_and_unnamed_or_out_of_range_ones_get_the_default_level()
    {
        var blocker = await _gated.HoldWorkerAsync(() => InferAsync("prio", 0));
        var low = InferAsync("prio", 1, priority: 2);
        var unnamed = InferAsync("prio", 2);
        var high = InferAsync("prio", 3, priority: 1);

        _gated.Backend.Gate.Set();
        await Task.WhenAll(blocker, low, unnamed, high);

        Assert.Equal([0, 3, 1, 2], _gated.Backend.Runs.TakeLast(4).Select(run => run[0]));
    }

    [Fact]
    public async Task Queue_depth_and_in_flight_counts_follow_the_requests()
    {
        var blocker = await _gated.HoldWorkerAsync(() => InferAsync("prio", 0));
        var queued = new[] { InferAsync("prio", 1), InferAsync("prio", 2, priority: 1) };

        var held = Info("prio");
        Assert.Equal((2, 1), (held.QueuedRequests, held.ExecutingRequests));

        _gated.Backend.Gate.Set();
        await Task.WhenAll([blocker, .. queued]);
        var done = Info("prio");
        Assert.Equal((0, 0), (done.QueuedRequests, done.ExecutingRequests));
        Assert.Equal(3, done.Statistics.Success.Count);
    }

    [Fact]
    public async Task A_full_priority_level_refuses_at_once_while_other_levels_still_queue()
    {
        var blocker = await _gated.HoldWorkerAsync(() => InferAsync("prio", 0));
        var queued = new[] { InferAsync("prio", 1), InferAsync("prio", 2) };

        var refused = await InferAsync("prio", 3, priority: 2);
        var high = InferAsync("prio", 4, priority: 1);

        Assert.Equal(new InferenceError(StatusCode.Unavailable, "model 'prio' version 1 queue for priority level 2 is full (2 requests); retry later"), refused.Error);
        _gated.Backend.Gate.Set();
        await blocker;
        Assert.All(await Task.WhenAll(queued), result => Assert.Null(result.Error));
        Assert.Equal(new[] { 4 }, (await high).Output);
    }

    [Fact]
    public async Task Under_delay_an_expired_request_runs_after_the_requests_still_on_time()
    {
        var blocker = await _gated.HoldWorkerAsync(() => InferAsync("delay", 0));
        var expired = InferAsync("delay", 1);
        _gated.Time.Advance(TimeSpan.FromMilliseconds(2));
        var onTime = InferAsync("delay", 2);

        _gated.Backend.Gate.Set();
        await Task.WhenAll(blocker, expired, onTime);

        Assert.Null((await expired).Error);
        Assert.Equal([0, 2, 1], _gated.Backend.Runs.TakeLast(3).Select(run => run[0]));
    }

    [Fact]
    public async Task A_caller_that_gives_up_frees_its_queue_slot_at_once()
    {
        var blocker = await _gated.HoldWorkerAsync(() => InferAsync("bounded", 0));
        using var giveUp = new CancellationTokenSource();
        var abandoned = InferAsync("bounded", 1, cancellationToken: giveUp.Token);
        Assert.Equal(StatusCode.Unavailable, (await InferAsync("bounded", 2)).Error!.Code);

        await giveUp.CancelAsync();
        Assert.Equal(new InferenceError(StatusCode.Cancelled, "the request was cancelled while queued"), (await abandoned).Error);
        var admitted = InferAsync("bounded", 3);

        _gated.Backend.Gate.Set();
        await blocker;
        Assert.Equal(new[] { 3 }, (await admitted).Output);
        Assert.DoesNotContain(_gated.Backend.Runs, run => run[0] == 1);
    }

    [Fact]
    public async Task With_preserve_ordering_a_fast_instance_does_not_answer_before_a_slow_one()
    {
        var (slow, fast) = await RaceAcrossInstancesAsync("ordered");

        Assert.True(SpinWait.SpinUntil(() => _gated.Statistics("ordered").Success.Count == 1, TimeSpan.FromSeconds(10)));
        Assert.False(fast.IsCompleted); // it ran and finished, but waits for the earlier request

        _gated.Backend.Gate.Set();
        Assert.Equal(new[] { 1 }, (await slow).Output);
        Assert.Equal(new[] { 2 }, (await fast).Output);
    }

    [Fact]
    public async Task Without_preserve_ordering_a_fast_instance_answers_while_a_slow_one_runs()
    {
        var (slow, fast) = await RaceAcrossInstancesAsync("unordered");

        Assert.Equal(new[] { 2 }, (await fast).Output);
        Assert.False(slow.IsCompleted);

        _gated.Backend.Gate.Set();
        Assert.Equal(new[] { 1 }, (await slow).Output);
    }

    private ModelVersionInfo Info(string model)
    {
        Assert.Null(_gated.Inference.Statistics(model, null, out var info));
        return info[0];
    }

    /// <summary>Holds request 1 inside one instance, then lets request 2 run to the end on the other.</summary>
    private async Task<(Task<Answer> Slow, Task<Answer> Fast)> RaceAcrossInstancesAsync(string model)
    {
        _gated.Backend.Holds = inputs => inputs[0].ToArray<int>()[0] == 1;
        var slow = await _gated.HoldWorkerAsync(() => InferAsync(model, 1));
        var fast = InferAsync(model, 2);
        await _gated.Backend.Exited.WaitAsync();
        return (slow, fast);
    }

    private async Task<Answer> InferAsync(string model, int value, long? priority = null, CancellationToken cancellationToken = default)
    {
        using var request = new InferenceRequest { ModelName = model };
        request.Inputs.Add(Tensor.FromArray<int>("INPUT0", [1, 1], [value]));
        if (priority is { } level)
        {
            request.Parameters = new Dictionary<string, object> { ["priority"] = level };
        }

        var result = await _gated.Inference.InferAsync(request, cancellationToken);
        using var response = result.Response;
        return new Answer(result.Error, response?.Outputs[0].ToArray<int>() ?? []);
    }

    private sealed record Answer(InferenceError? Error, int[] Output);
}
