using Turbine.Core.Execution;
using Turbine.Onnx.Tools;

namespace Turbine.Core.Tests;

/// <summary>
/// Direct dispatch: without batching, a request for a cheap model that finds an instance idle and nobody queued
/// runs on the caller's thread; otherwise it goes through the queue as before.
/// </summary>
public sealed class DirectDispatchTests : IAsyncLifetime
{
    private readonly GatedModels _gated = new();

    public async Task InitializeAsync()
    {
        _gated.Files.Add("direct", SampleModels.Identity(DataType.Int32), """{ "max_batch_size": 0 }""")
                    .Add("batched", SampleModels.Identity(DataType.Int32), """{ "max_batch_size": 4, "dynamic_batching": {} }""");
        await _gated.LoadAsync();
    }

    public async Task DisposeAsync() => await _gated.DisposeAsync();

    [Fact]
    public async Task A_cheap_request_with_an_idle_instance_runs_on_the_callers_thread()
    {
        await WarmUpAsync("direct");

        var (answer, caller) = CallFromOwnThread("direct", 7);

        Assert.Equal(caller, _gated.Backend.RunThreads.Last());
        Assert.Equal(new[] { 7 }, answer);
        Assert.Equal(5, _gated.Statistics("direct").Success.Count);
    }

    [Fact]
    public async Task While_the_instance_is_busy_a_request_queues_and_the_worker_runs_it()
    {
        await WarmUpAsync("direct");
        var blocker = await _gated.HoldWorkerAsync(() => InferAsync("direct", 0)); // runs inline and holds the only instance

        var queued = InferAsync("direct", 1);
        Assert.Equal(1, Info("direct").QueuedRequests); // not overtaking, not spinning: waiting in the queue
        _gated.Backend.Gate.Set();

        Assert.Equal(new[] { 1 }, await queued);
        await blocker;
        Assert.Equal(0, Info("direct").QueuedRequests);
    }

    [Fact]
    public async Task An_expensive_model_never_runs_inline()
    {
        _gated.Backend.Cost = _ => _gated.Time.Advance(TimeSpan.FromMilliseconds(1)); // well over the 200 µs limit
        await WarmUpAsync("direct");

        var (_, caller) = CallFromOwnThread("direct", 7);

        Assert.NotEqual(caller, _gated.Backend.RunThreads.Last());
    }

    [Fact]
    public async Task A_batching_model_always_goes_through_the_batcher()
    {
        await WarmUpAsync("batched");

        var (_, caller) = CallFromOwnThread("batched", 7);

        Assert.NotEqual(caller, _gated.Backend.RunThreads.Last());
    }

    /// <summary>Four executions teach the runner what the model costs.</summary>
    private async Task WarmUpAsync(string model)
    {
        for (var i = 0; i < 4; i++)
        {
            await InferAsync(model, i);
        }
    }

    /// <summary>Calls from a dedicated thread, so "the caller's thread" is well defined; returns the answer and that thread.</summary>
    private (int[] Answer, int CallerThread) CallFromOwnThread(string model, int value)
    {
        int[] answer = [];
        var caller = 0;
        var thread = new Thread(() =>
        {
            caller = Environment.CurrentManagedThreadId;
            answer = InferAsync(model, value).GetAwaiter().GetResult();
        });
        thread.Start();
        thread.Join();
        return (answer, caller);
    }

    private ModelVersionInfo Info(string model)
    {
        Assert.Null(_gated.Inference.Statistics(model, null, out var info));
        return info[0];
    }

    private async Task<int[]> InferAsync(string model, int value)
    {
        using var request = new InferenceRequest { ModelName = model };
        request.Inputs.Add(Tensor.FromArray<int>("INPUT0", [1, 1], [value]));
        var result = await _gated.Inference.InferAsync(request, CancellationToken.None);
        using var response = result.Response;
        Assert.Null(result.Error);
        return response!.Outputs[0].ToArray<int>();
    }
}
