using Turbine.Core.Execution;
using Turbine.Onnx.Tools;

namespace Turbine.Core.Tests;

/// <summary>
/// Latency-aware batching (max_latency_ms): each run costs 10 ms on the fake clock, so after warm-up the scheduler
/// knows a batch takes 10 ms and can be checked exactly against the 50 ms target, which it plans at 90%: 45 ms.
/// </summary>
public sealed class LatencyTargetTests : IAsyncLifetime
{
    private static readonly TimeSpan RunCost = TimeSpan.FromMilliseconds(10);
    private readonly GatedModels _gated = new();

    public async Task InitializeAsync()
    {
        _gated.Files.Add("target", SampleModels.Identity(DataType.Int32), """{ "max_batch_size": 4, "dynamic_batching": { "max_latency_ms": 50 } }""");
        await _gated.LoadAsync();
        _gated.Backend.Cost = _ => _gated.Time.Advance(RunCost);
        for (var i = 0; i < 4; i++)
        {
            Assert.Null((await InferAsync(i)).Error); // alone each time: the batcher has learned nothing yet, so it does not wait
        }
    }

    public async Task DisposeAsync() => await _gated.DisposeAsync();

    [Fact]
    public async Task A_request_that_the_queue_ahead_would_make_late_is_refused_at_once()
    {
        var blocker = await HoldWorkerAsync();

        // 10 ms a batch of 4, one batch running: 12 queued requests are 3 more batches, answered at 40 ms; a 13th
        // needs a fourth batch, 50 ms, past the 45 ms planned.
        var admitted = Enumerable.Range(1, 12).Select(i => InferAsync(i)).ToArray();
        var refused = InferAsync(13);

        Assert.True(refused.IsCompleted);
        Assert.Equal(
            new InferenceError(StatusCode.Unavailable, "model 'target' version 1 cannot answer within its latency target of 50 ms (about 50 ms of work is ahead); retry later"),
            (await refused).Error);
        _gated.Backend.Gate.Set();
        await blocker;
        Assert.All(await Task.WhenAll(admitted), answer => Assert.Null(answer.Error));
    }

    [Fact]
    public async Task A_background_backlog_is_not_work_ahead_of_an_online_request()
    {
        var blocker = await HoldWorkerAsync();
        var backlog = Enumerable.Range(200, 40).Select(i => InferAsync(i, rows: 1, RequestLane.Background)).ToArray(); // 10 batches: 100 ms

        // The same arithmetic as without the backlog: 12 online requests fit the target, a 13th does not.
        var admitted = Enumerable.Range(1, 12).Select(i => InferAsync(i)).ToArray();
        var refused = await InferAsync(13);

        Assert.Equal(StatusCode.Unavailable, refused.Error?.Code);
        _gated.Backend.Gate.Set();
        await blocker;
        Assert.All(await Task.WhenAll(admitted), answer => Assert.Null(answer.Error));
        Assert.All(await Task.WhenAll(backlog), answer => Assert.Null(answer.Error)); // no latency target: it waits as long as it must
    }

    [Fact]
    public async Task A_queued_request_that_can_no_longer_make_the_target_is_refused_without_running()
    {
        var blocker = await HoldWorkerAsync();
        var late = InferAsync(7);

        _gated.Time.Advance(TimeSpan.FromMilliseconds(40)); // 40 ms queued + 10 ms blocker + 10 ms own run > 45 ms
        _gated.Backend.Gate.Set();

        await blocker;
        Assert.Equal(
            new InferenceError(StatusCode.Unavailable, "model 'target' version 1 could not answer within its latency target of 50 ms; retry later"),
            (await late).Error);
        Assert.DoesNotContain(_gated.Backend.Runs, run => run[0] == 7);
    }

    [Fact]
    public async Task A_lone_request_waits_for_company_as_long_as_arrivals_suggest_and_the_target_allows()
    {
        while (_gated.Backend.Entered.Wait(0))
        {
            // forget the warm-up runs
        }

        var lone = InferAsync(1);

        // The target allows 25 ms (45 ms planned, less a full batch of 10 ms, less one more in case the instance is
        // busy), but requests have been arriving 10 ms apart: it waits two gaps, 20 ms, for the next one.
        _gated.Time.Advance(TimeSpan.FromMilliseconds(19));
        Assert.False(_gated.Backend.Entered.Wait(0));

        // At 20 ms it runs. A worker thread that the machine kept off the CPU may park after the clock moved on, with
        // its wake-up computed from later figures: the clock then moves in 1 ms steps, never past the 25 ms the target
        // allows, until the run starts (the run itself is the signal).
        for (var waited = 20; ; waited++)
        {
            _gated.Time.Advance(TimeSpan.FromMilliseconds(1));
            if (await _gated.Backend.Entered.WaitAsync(TimeSpan.FromSeconds(waited == 20 ? 5 : 1)))
            {
                break;
            }

            Assert.True(waited < 25, "the lone request did not run within the 25 ms its target allows");
        }

        Assert.Null((await lone).Error);
    }

    [Fact]
    public async Task A_batch_stops_growing_where_it_would_answer_its_oldest_request_late()
    {
        // From here a run costs 5 ms a row. Thirty rounds of 1 and 4 rows teach the batcher about that (it fits
        // fixed ~0.8 ms + 4.8 ms a row, the four 10 ms warm-up runs still in its window).
        _gated.Backend.Cost = rows => _gated.Time.Advance(TimeSpan.FromMilliseconds(5 * rows));
        for (var round = 0; round < 30; round++)
        {
            // A lone row waits for company as long as the target allows (up to 30 ms). The clock moves 1 ms at a time
            // until it is answered: moved 30 ms at once, it could jump ahead while the worker runs the row, and the
            // batcher would learn that a row costs up to 30 ms more than it does (on a loaded machine it did, and a
            // later batch then waited for company on a clock nobody moved).
            var lone = InferAsync(50, rows: 1);
            for (var waited = 0; !lone.IsCompleted; waited++)
            {
                Assert.True(waited < 100, "a lone row waited more than 100 ms");
                _gated.Time.Advance(TimeSpan.FromMilliseconds(1));
                await Task.WhenAny(lone, Task.Delay(2));
            }

            Assert.Null((await lone).Error);
            Assert.Null((await InferAsync(50, rows: 4)).Error);
        }

        var blocker = await HoldWorkerAsync(); // 4 rows: 20 ms
        var queued = Enumerable.Range(1, 4).Select(i => InferAsync(i)).ToArray(); // planned to be answered within 45 ms
        _gated.Time.Advance(TimeSpan.FromMilliseconds(13));
        _gated.Backend.Gate.Set();
        await blocker;

        // At 33 ms, two rows would end at ~43 ms and make it; three would end at ~48 ms, so the third waits, and by
        // then neither it nor the fourth can finish by 45 ms: both are refused.
        var answers = await Task.WhenAll(queued);
        Assert.Equal(new int[] { 1, 2 }, _gated.Backend.Runs.Last());
        Assert.Equal([null, null, StatusCode.Unavailable, StatusCode.Unavailable], answers.Select(a => a.Error?.Code));
    }

    [Fact]
    public void The_prediction_counts_the_rows_ahead_not_whole_batches()
    {
        // A clock of 1000 ticks a second, so ticks are milliseconds; a row costs 25 ms, a full batch of 32 rows 800 ms.
        var target = new Execution.Scheduling.LatencyTarget(1000, timestampFrequency: 1000, instances: 1, batchRows: 32);
        foreach (var rows in new[] { 1, 32, 1, 32 })
        {
            target.Costs.Record(rows, rows * 25);
        }

        Assert.True(target.CanAdmit(queuedRows: 0, rows: 1, busyInstances: 0, executingRows: 0, out var alone));
        Assert.Equal(25, alone);
        Assert.False(target.CanAdmit(queuedRows: 40, rows: 1, busyInstances: 1, executingRows: 8, out var behind));
        Assert.Equal(800 + (9 * 25) + (8 * 25), behind); // one full batch, a batch of 9, and the 8 rows running now
    }

    /// <summary>Holds the worker inside a run of a full batch (4 rows), which has nothing to wait for.</summary>
    private Task<Task<Answer>> HoldWorkerAsync() => _gated.HoldWorkerAsync(() => InferAsync(100, rows: 4));

    private async Task<Answer> InferAsync(int value) => await InferAsync(value, rows: 1);

    private async Task<Answer> InferAsync(int value, int rows, RequestLane lane = RequestLane.Online)
    {
        using var request = new InferenceRequest { ModelName = "target", Lane = lane };
        request.Inputs.Add(Tensor.FromArray<int>("INPUT0", [rows, 1], Enumerable.Repeat(value, rows).ToArray()));
        var result = await _gated.Inference.InferAsync(request, CancellationToken.None);
        result.Response?.Dispose();
        return new Answer(result.Error);
    }

    private sealed record Answer(InferenceError? Error);
}
