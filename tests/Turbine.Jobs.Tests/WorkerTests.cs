using System.Text;
using System.Text.Json;
using Turbine.Jobs.Definition;
using Turbine.Jobs.Execution;
using Turbine.Jobs.Storage;
using Turbine.Jobs.Store;

namespace Turbine.Jobs.Tests;

public sealed class WorkerTests : IDisposable
{
    private readonly JobHarness _jobs = new();

    private string Rows(int count, Func<int, string>? row = null)
    {
        var csv = new StringBuilder("id,a,b,c\n");
        for (var i = 0; i < count; i++)
        {
            csv.Append(row?.Invoke(i) ?? $"{i},{i},1,2").Append('\n');
        }

        return _jobs.Write("in.csv", csv.ToString());
    }

    [Fact]
    public async Task Requests_carry_up_to_rows_per_request_rows_on_the_background_lane()
    {
        var lanes = new List<RequestLane>();
        var inference = new FakeInference { OnRequest = (request, _) => { lock (lanes) { lanes.Add(request.Lane); } return Task.CompletedTask; } };

        var job = await _jobs.RunAsync(_jobs.Job(Rows(20), options: JobOptions.Default with { PartitionRows = 10, RowsPerRequest = 3 }), inference);

        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Equal([1L, 1, 3, 3, 3, 3, 3, 3], inference.BatchSizes.Order()); // each partition of 10: 3 + 3 + 3 + 1
        Assert.All(lanes, lane => Assert.Equal(RequestLane.Background, lane));
    }

    [Fact]
    public async Task Passing_failures_are_retried_and_rows_that_still_fail_are_dead_letters()
    {
        // Requests 1 and 2 get 503: the first request succeeds on its third try.
        var flaky = new FakeInference { Fault = n => n <= 2 ? InferenceError.Unavailable("model busy") : null };
        var options = JobOptions.Default with { PartitionRows = 100, RowsPerRequest = 4, Retries = 3, RetryBackoff = TimeSpan.FromMilliseconds(1), MaxErrorPercent = 100 };
        var job = await _jobs.RunAsync(_jobs.Job(Rows(8), options: options), flaky);

        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Equal(0, job.Progress.Errors);
        Assert.Equal(8, _jobs.PartLines().Count);

        var down = new FakeInference { Fault = _ => InferenceError.Unavailable("model busy") };
        var failed = await _jobs.RunAsync(_jobs.Job(Rows(3), options: options with { Retries = 2 }) with { Output = new DataLocation(Path.Combine(_jobs.Root, "out2"), DataFormat.Csv) }, down, "job2");
        Assert.Equal(3, failed.Progress.Errors);
        Assert.Equal(3, down.Requests); // one try and two retries
        var error = JsonDocument.Parse(File.ReadAllLines(Path.Combine(_jobs.Root, "out2", "errors", "part-00000.jsonl"))[0]).RootElement;
        Assert.Contains("still unavailable (503) after 2 retries: model busy", error.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(3, error.GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task A_row_the_model_refuses_is_isolated_and_its_batch_mates_are_scored()
    {
        var input = Rows(8, i => i == 5 ? "5,666,1,2" : $"{i},{i},1,2");
        var job = await _jobs.RunAsync(_jobs.Job(input, options: JobOptions.Default with { PartitionRows = 100, RowsPerRequest = 8, MaxErrorPercent = 50 }), new FakeInference());

        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Equal(1, job.Progress.Errors);
        Assert.Equal([0, 1, 2, 3, 4, 6, 7], _jobs.PartLines().Select(l => int.Parse(l.Split(',')[0], System.Globalization.CultureInfo.InvariantCulture)));
        var error = JsonDocument.Parse(_jobs.DeadLetters().Single()).RootElement;
        Assert.Equal(5, error.GetProperty("row").GetInt64());
        Assert.Equal("5", error.GetProperty("keys").GetProperty("id").GetString());
        Assert.Contains("the model refused the row (400): x holds the poison value 666", error.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancel_stops_leasing_abandons_the_partition_in_hand_and_keeps_finished_parts()
    {
        var held = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var inference = new FakeInference
        {
            OnRequest = async (request, token) =>
            {
                if (MemoryMarshal(request) >= 8)
                {
                    held.TrySetResult();
                    await release.Task.WaitAsync(token);
                }
            },
        };
        var options = JobOptions.Default with { PartitionRows = 4, RowsPerRequest = 4, Lease = TimeSpan.FromSeconds(3) };
        Assert.Equal(JobChange.Done, (await _jobs.Control.SubmitAsync(_jobs.Job(Rows(16), options: options), "job", CancellationToken.None)).Outcome);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var run = _jobs.Worker(inference).RunAsync("job", timeout.Token);
        await held.Task.WaitAsync(timeout.Token);

        Assert.Equal(JobChange.Done, (await _jobs.Control.CancelAsync("job", CancellationToken.None)).Outcome);
        release.SetResult();

        Assert.Equal(JobState.Cancelled, await run);
        Assert.Equal(["part-00000.csv", "part-00001.csv"], Directory.GetFiles(_jobs.Output, "part-*").Select(Path.GetFileName).Order());
        Assert.Equal(JobChange.Conflict, (await _jobs.Control.ResumeAsync("job", CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task A_full_disk_fails_the_job_with_the_reason_keeps_earlier_parts_and_a_resume_finishes_it()
    {
        var full = new FullDiskStorage(_jobs.Storage, failOnPart: 2);
        _jobs.Storage = full;
        var job = await _jobs.RunAsync(_jobs.Job(Rows(12), options: JobOptions.Default with { PartitionRows = 4 }), new FakeInference());

        Assert.Equal(JobState.Failed, job.State);
        Assert.Contains("part 2 failed: No space left on device", job.Reason, StringComparison.Ordinal);
        Assert.Equal(["part-00000.csv", "part-00001.csv"], Directory.GetFiles(_jobs.Output, "part-*").Select(Path.GetFileName).Order());
        Assert.Empty(Directory.GetFiles(Path.Combine(_jobs.Output, LocalJobStorage.ScratchName)));

        full.Full = false;
        Assert.Equal(JobChange.Done, (await _jobs.Control.ResumeAsync("job", CancellationToken.None)).Outcome);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Assert.Equal(JobState.Succeeded, await _jobs.Worker(new FakeInference()).RunAsync("job", timeout.Token));
        Assert.Equal(Enumerable.Range(0, 12), _jobs.PartLines().Select(l => int.Parse(l.Split(',')[0], System.Globalization.CultureInfo.InvariantCulture)));
        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(_jobs.Output, JobSummary.FileName))).RootElement;
        Assert.Equal([1, 1, 2], summary.GetProperty("parts").EnumerateArray().Select(p => p.GetProperty("attempts").GetInt32()));
    }

    [Fact]
    public async Task Pause_lets_the_partition_in_hand_finish_and_resume_goes_on()
    {
        var held = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var inference = new FakeInference
        {
            OnRequest = async (request, token) =>
            {
                if (MemoryMarshal(request) == 4)
                {
                    held.TrySetResult();
                    await release.Task.WaitAsync(token);
                }
            },
        };
        Assert.Equal(JobChange.Done, (await _jobs.Control.SubmitAsync(_jobs.Job(Rows(12), options: JobOptions.Default with { PartitionRows = 4 }), "job", CancellationToken.None)).Outcome);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var stopWorker = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
        var run = _jobs.Worker(inference).RunAsync("job", stopWorker.Token);
        await held.Task.WaitAsync(timeout.Token);
        Assert.Equal(JobChange.Done, (await _jobs.Control.PauseAsync("job", CancellationToken.None)).Outcome);
        release.SetResult();

        // The partition in hand completes; no other is leased while paused.
        while ((await _jobs.Store.GetAsync("job", CancellationToken.None))!.Progress.PartitionsDone < 2)
        {
            await Task.Delay(10, timeout.Token);
        }

        var paused = (await _jobs.Store.GetAsync("job", CancellationToken.None))!;
        Assert.Equal(JobState.Paused, paused.State);
        Assert.Null(await _jobs.Store.LeaseAsync("job", "someone", TimeSpan.FromSeconds(5), CancellationToken.None));

        Assert.Equal(JobChange.Done, (await _jobs.Control.ResumeAsync("job", CancellationToken.None)).Outcome);
        Assert.Equal(JobState.Succeeded, await run);
        Assert.Equal(12, _jobs.PartLines().Count);
    }

    [Fact]
    public async Task A_worker_whose_summary_scratch_another_finisher_cleared_ends_quietly()
    {
        // Every partition is done (by workers that stopped before finishing the job); this worker finds the job to
        // finish, and as it publishes the summary another worker finishes it first and clears the scratch folder.
        Assert.Equal(JobChange.Done, (await _jobs.Control.SubmitAsync(_jobs.Job(Rows(8)), "job", CancellationToken.None)).Outcome);
        Assert.NotNull(await _jobs.Store.ClaimPlanningAsync("job", "planner", TimeSpan.FromMinutes(1), CancellationToken.None));
        Assert.True(await _jobs.Store.StartAsync("job", "planner", new JobPlan(["id", "a", "b", "c"], [new PartitionSpan(0, 0, 4, 9, 24), new PartitionSpan(1, 4, 4, 33, 24)]), CancellationToken.None));
        while (await _jobs.Store.LeaseAsync("job", "gone", TimeSpan.FromMinutes(1), CancellationToken.None) is { } lease)
        {
            Assert.True(await _jobs.Store.CompleteAsync(lease, new PartitionResult(4, 0, new string('0', 64), 10, TimeSpan.Zero), CancellationToken.None));
        }

        var racing = new RacingFinisherStorage(_jobs.Storage, _jobs.Store, "job");
        _jobs.Storage = racing;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        Assert.Equal(JobState.Succeeded, await _jobs.Worker(new FakeInference()).RunAsync("job", timeout.Token));
        Assert.True(racing.Raced);
        Assert.True(File.Exists(Path.Combine(_jobs.Output, JobSummary.FileName)));
    }

    /// <summary>The first value of the request's first row (the fake model's x), which the tests use to pick a request.</summary>
    private static float MemoryMarshal(InferenceRequest request) => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(request.Inputs[0].Data.Span)[0];

    public void Dispose() => _jobs.Dispose();

    /// <summary>Storage where, as this worker publishes its summary, another worker has just finished the job and cleared the scratch folder.</summary>
    private sealed class RacingFinisherStorage(IJobStorage inner, IJobStore store, string job) : IJobStorage
    {
        public bool Raced { get; private set; }

        public string? Check(string uri) => inner.Check(uri);

        public Task<long> LengthAsync(string uri, CancellationToken cancellationToken) => inner.LengthAsync(uri, cancellationToken);

        public Task<Stream> OpenReadAsync(string uri, long offset, long length, CancellationToken cancellationToken) => inner.OpenReadAsync(uri, offset, length, cancellationToken);

        public Task<string> LocalCopyAsync(string uri, CancellationToken cancellationToken) => inner.LocalCopyAsync(uri, cancellationToken);

        public string ScratchFolder(string outputUri) => inner.ScratchFolder(outputUri);

        public void ClearScratch(string outputUri) => inner.ClearScratch(outputUri);

        public async Task PublishAsync(string scratchFile, string outputUri, string name, CancellationToken cancellationToken)
        {
            if (name == JobSummary.FileName && !Raced)
            {
                Raced = true;
                File.Copy(scratchFile, Path.Combine(outputUri, name), overwrite: true); // the other worker's summary
                Assert.True(await store.TryFinishAsync(job, cancellationToken));
                inner.ClearScratch(outputUri);
            }

            await inner.PublishAsync(scratchFile, outputUri, name, cancellationToken);
        }

        public Task<IReadOnlyList<string>> ListAsync(string outputUri, CancellationToken cancellationToken) => inner.ListAsync(outputUri, cancellationToken);

        public Task<Stream> OpenOutputAsync(string outputUri, string name, CancellationToken cancellationToken) => inner.OpenOutputAsync(outputUri, name, cancellationToken);
    }

    /// <summary>Local storage whose disk fills when a chosen part is published, as a write past ENOSPC fails.</summary>
    private sealed class FullDiskStorage(IJobStorage inner, int failOnPart) : IJobStorage
    {
        public bool Full { get; set; } = true;

        public string? Check(string uri) => inner.Check(uri);

        public Task<long> LengthAsync(string uri, CancellationToken cancellationToken) => inner.LengthAsync(uri, cancellationToken);

        public Task<Stream> OpenReadAsync(string uri, long offset, long length, CancellationToken cancellationToken) => inner.OpenReadAsync(uri, offset, length, cancellationToken);

        public Task<string> LocalCopyAsync(string uri, CancellationToken cancellationToken) => inner.LocalCopyAsync(uri, cancellationToken);

        public string ScratchFolder(string outputUri) => inner.ScratchFolder(outputUri);

        public void ClearScratch(string outputUri) => inner.ClearScratch(outputUri);

        public Task PublishAsync(string scratchFile, string outputUri, string name, CancellationToken cancellationToken) =>
            Full && name == $"part-{failOnPart:D5}.csv" ? throw new IOException("No space left on device", 28) : inner.PublishAsync(scratchFile, outputUri, name, cancellationToken);

        public Task<IReadOnlyList<string>> ListAsync(string outputUri, CancellationToken cancellationToken) => inner.ListAsync(outputUri, cancellationToken);

        public Task<Stream> OpenOutputAsync(string outputUri, string name, CancellationToken cancellationToken) => inner.OpenOutputAsync(outputUri, name, cancellationToken);
    }
}
