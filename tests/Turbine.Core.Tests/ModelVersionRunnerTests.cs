using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Turbine.Core.Execution;
using Turbine.Core.Lifecycle;
using Turbine.Core.Repository;
using Turbine.Tests;

namespace Turbine.Core.Tests;

/// <summary>The bounded queue, cancellation before run, and backend faults (SECURITY.md F5, F6, F10).</summary>
public sealed class ModelVersionRunnerTests : IAsyncLifetime
{
    private readonly TestRepository _files = new();
    private readonly FakeBackend _backend = new();
    private ModelManager _models = null!;
    private ModelExecutor _inference = null!;

    public async Task InitializeAsync()
    {
        _files.Add("echo", [0], """{ "max_batch_size": 4, "max_queue_size": 2 }""");
        _models = new ModelManager(new ModelRepository(_files.Root), BackendRegistry.Of(_backend), new FakeTimeProvider(), NullLogger<ModelManager>.Instance);
        _inference = new ModelExecutor(_models);
        Assert.Null(await _models.LoadAsync("echo", CancellationToken.None));
    }

    public async Task DisposeAsync()
    {
        _backend.Release();
        await _models.DisposeAsync();
        _files.Dispose();
    }

    [Fact]
    public async Task A_full_queue_answers_unavailable_at_once()
    {
        _backend.Hold();
        var running = InferAsync(); // taken by the worker, held at the gate
        await _backend.Entered.WaitAsync();
        var queued = new[] { InferOnThisThreadAsync(default), InferOnThisThreadAsync(default) }; // the worker is busy: these only queue

        var refused = await InferOnThisThreadAsync(default);

        Assert.Equal(StatusCode.Unavailable, refused.Error!.Code);
        Assert.Contains("queue is full", refused.Error.Message, StringComparison.Ordinal);
        _backend.Release();
        Assert.Null((await running).Error);
        foreach (var task in queued)
        {
            Assert.Null((await task).Error);
        }
    }

    [Fact]
    public async Task A_caller_that_gives_up_while_queued_is_answered_at_once_and_its_request_never_runs()
    {
        _backend.Hold();
        var running = InferAsync();
        await _backend.Entered.WaitAsync();
        using var cancellation = new CancellationTokenSource();
        var queued = InferOnThisThreadAsync(cancellation.Token);

        await cancellation.CancelAsync();

        Assert.Equal(StatusCode.Cancelled, (await queued).Error!.Code); // answered while the worker is still held
        Assert.False(running.IsCompleted);
        _backend.Release();
        Assert.Null((await running).Error);
        Assert.Null((await InferAsync()).Error); // queued behind the cancelled one, so that one has been dealt with
        Assert.Null(_inference.Statistics("echo", null, out var stats));
        Assert.Equal(2, stats[0].Statistics.ExecutionCount);
        Assert.Equal(1, stats[0].Statistics.Fail.Count);
    }

    [Fact]
    public async Task A_backend_that_throws_fails_that_request_and_the_model_stays_ready()
    {
        _backend.Throw = true;
        var failed = await InferAsync();
        _backend.Throw = false;
        var next = await InferAsync();

        Assert.Equal(StatusCode.Internal, failed.Error!.Code);
        Assert.Equal("model execution failed: InvalidOperationException", failed.Error.Message); // the backend's own words stay in the log
        Assert.Null(next.Error);
        next.Response!.Dispose();
    }

    [Fact]
    public async Task A_fault_outside_the_model_call_answers_every_caller_of_the_round_and_the_worker_goes_on()
    {
        _files.Add("batched", [0], """{ "max_batch_size": 4, "dynamic_batching": { "max_queue_delay_microseconds": 0 } }""");
        Assert.Null(await _models.LoadAsync("batched", CancellationToken.None));
        _backend.NullOutputWhenRows = 2; // splitting that batch's outputs throws inside the runner, after the backend returned
        _backend.Hold();
        var running = InferAsync("batched");
        await _backend.Entered.WaitAsync();
        var queued = new[] { InferOnThisThreadAsync(default, "batched"), InferOnThisThreadAsync(default, "batched") }; // batched together next

        _backend.Release();

        Assert.Null((await running).Error);
        foreach (var task in queued)
        {
            var failed = await task.WaitAsync(TimeSpan.FromSeconds(30)); // before the fix: never answered
            Assert.Equal(StatusCode.Internal, failed.Error!.Code);
            Assert.Equal("model 'batched' version 1 failed to run the request", failed.Error.Message);
        }

        var after = await InferAsync("batched").WaitAsync(TimeSpan.FromSeconds(30)); // the worker survived
        Assert.Null(after.Error);
        after.Response!.Dispose();
        Assert.Null(_inference.Statistics("batched", null, out var stats));
        Assert.Equal(2, stats[0].Statistics.Fail.Count);
    }

    [Fact]
    public async Task Unloading_drains_queued_requests_before_releasing_the_instance()
    {
        _backend.Hold();
        var running = InferAsync();
        await _backend.Entered.WaitAsync();
        var queued = InferOnThisThreadAsync(default);

        var unload = _models.UnloadAsync("echo", CancellationToken.None);
        Assert.False(unload.IsCompleted);
        _backend.Release();

        Assert.Null(await unload);
        Assert.Null((await running).Error);
        Assert.Null((await queued).Error);
    }

    /// <summary>Starts a request from a thread-pool thread, as a server would; the test thread never waits at the gate.</summary>
    private Task<InferenceResult> InferAsync(string model = "echo") =>
        Task.Run(() => InferOnThisThreadAsync(default, model), CancellationToken.None);

    private async Task<InferenceResult> InferOnThisThreadAsync(CancellationToken cancellationToken, string model = "echo")
    {
        using var request = new InferenceRequest { ModelName = model };
        request.Inputs.Add(Tensor.FromArray<float>("INPUT0", [1, 2], [1f, 2f]));
        var result = await _inference.InferAsync(request, cancellationToken);
        return result;
    }
}
