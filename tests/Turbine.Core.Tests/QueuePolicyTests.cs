using Turbine.Core.Execution;
using Turbine.Onnx.Tools;

namespace Turbine.Core.Tests;

/// <summary>Queue timeouts (Triton's default_queue_policy): expired requests are dropped before they run.</summary>
public sealed class QueuePolicyTests : IAsyncLifetime
{
    private readonly GatedModels _gated = new();

    public async Task InitializeAsync()
    {
        _gated.Files.Add("reject", SampleModels.Identity(DataType.Int32), Config("REJECT", allowOverride: true))
              .Add("strict", SampleModels.Identity(DataType.Int32), Config("REJECT", allowOverride: false))
              .Add("delay", SampleModels.Identity(DataType.Int32), Config("DELAY", allowOverride: false));
        await _gated.LoadAsync();
    }

    public async Task DisposeAsync() => await _gated.DisposeAsync();

    [Fact]
    public async Task A_request_that_waited_past_its_timeout_is_rejected_without_running()
    {
        var (blocker, victim) = await QueueBehindABlockerAsync("reject", timeoutMicroseconds: null);

        _gated.Time.Advance(TimeSpan.FromMilliseconds(2));
        _gated.Backend.Gate.Set();

        Assert.Null((await blocker).Error);
        Assert.Equal(new InferenceError(StatusCode.DeadlineExceeded, "Request timeout expired"), (await victim).Error);
        var stats = _gated.Statistics("reject");
        Assert.Equal(1, stats.ExecutionCount);
        Assert.Equal(1, stats.Fail.Count);
    }

    [Fact]
    public async Task A_request_may_ask_for_a_longer_timeout_when_the_policy_allows_it()
    {
        var (blocker, patient) = await QueueBehindABlockerAsync("reject", timeoutMicroseconds: 5000);

        _gated.Time.Advance(TimeSpan.FromMilliseconds(2));
        _gated.Backend.Gate.Set();

        await blocker;
        Assert.Null((await patient).Error);
    }

    [Fact]
    public async Task A_timeout_parameter_is_ignored_when_the_policy_does_not_allow_overrides()
    {
        var (blocker, victim) = await QueueBehindABlockerAsync("strict", timeoutMicroseconds: 5000);

        _gated.Time.Advance(TimeSpan.FromMilliseconds(2));
        _gated.Backend.Gate.Set();

        await blocker;
        Assert.Equal(StatusCode.DeadlineExceeded, (await victim).Error!.Code);
    }

    [Fact]
    public async Task Under_a_delay_policy_an_expired_request_still_runs()
    {
        var (blocker, late) = await QueueBehindABlockerAsync("delay", timeoutMicroseconds: null);

        _gated.Time.Advance(TimeSpan.FromMilliseconds(2));
        _gated.Backend.Gate.Set();

        await blocker;
        Assert.Null((await late).Error);
    }

    private static string Config(string action, bool allowOverride) => $$"""
        {
          "max_batch_size": 4,
          "dynamic_batching": {
            "default_queue_policy": { "default_timeout_microseconds": 1000, "timeout_action": "{{action}}", "allow_timeout_override": {{(allowOverride ? "true" : "false")}} }
          }
        }
        """;

    /// <summary>Holds the worker on a first request, then queues a second one behind it.</summary>
    private async Task<(Task<InferenceResult> Blocker, Task<InferenceResult> Queued)> QueueBehindABlockerAsync(string model, long? timeoutMicroseconds)
    {
        var blocker = await _gated.HoldWorkerAsync(() => InferAsync(model, null));
        return (blocker, InferAsync(model, timeoutMicroseconds));
    }

    private async Task<InferenceResult> InferAsync(string model, long? timeoutMicroseconds)
    {
        using var request = new InferenceRequest { ModelName = model };
        request.Inputs.Add(Tensor.FromArray<int>("INPUT0", [1, 2], [1, 2]));
        if (timeoutMicroseconds is { } timeout)
        {
            request.Parameters = new Dictionary<string, object> { ["timeout"] = timeout };
        }

        var result = await _gated.Inference.InferAsync(request, CancellationToken.None);
        result.Response?.Dispose();
        return result;
    }
}
