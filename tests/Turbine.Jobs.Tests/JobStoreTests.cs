using Microsoft.Extensions.Time.Testing;
using Turbine.Jobs.Definition;
using Turbine.Jobs.Execution;
using Turbine.Jobs.Store;

namespace Turbine.Jobs.Tests;

public sealed class JobStoreTests : IDisposable
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-12-07T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly JobHarness _jobs;

    public JobStoreTests() => _jobs = new JobHarness(_time);

    private async Task<string> PlannedJobAsync(int partitions)
    {
        Assert.True(await _jobs.Store.CreateAsync("job", _jobs.Job("in.csv"), CancellationToken.None));
        Assert.NotNull(await _jobs.Store.ClaimPlanningAsync("job", "planner", Lease, CancellationToken.None));
        var spans = Enumerable.Range(0, partitions).Select(i => new PartitionSpan(i, i * 10, 10, i * 100, 100)).ToList();
        Assert.True(await _jobs.Store.StartAsync("job", "planner", new JobPlan(["id", "a", "b", "c"], spans), CancellationToken.None));
        return "job";
    }

    [Fact]
    public async Task Workers_racing_for_partitions_each_get_a_different_one_until_none_is_left()
    {
        var job = await PlannedJobAsync(20);
        var leases = await Task.WhenAll(Enumerable.Range(0, 24).Select(w => Task.Run(() => _jobs.Store.LeaseAsync(job, $"w{w}", Lease, CancellationToken.None))));

        var taken = leases.OfType<PartitionLease>().Select(l => l.Span.Index).ToList();
        Assert.Equal(Enumerable.Range(0, 20), taken.Order());
        Assert.Equal(4, leases.Count(l => l is null));
    }

    [Fact]
    public async Task A_lease_that_runs_out_is_taken_again_and_its_first_holder_can_no_longer_complete_it()
    {
        var job = await PlannedJobAsync(1);
        var first = (await _jobs.Store.LeaseAsync(job, "a", Lease, CancellationToken.None))!;
        Assert.Null(await _jobs.Store.LeaseAsync(job, "b", Lease, CancellationToken.None));

        _time.Advance(Lease + TimeSpan.FromSeconds(1));
        var second = (await _jobs.Store.LeaseAsync(job, "b", Lease, CancellationToken.None))!;
        Assert.Equal(0, second.Span.Index);
        Assert.Equal(2, second.Attempt);

        var result = new PartitionResult(10, 0, new string('0', 64), 100, TimeSpan.Zero);
        Assert.Null(await _jobs.Store.RenewAsync(first, Lease, 5, CancellationToken.None));
        Assert.False(await _jobs.Store.CompleteAsync(first, result, CancellationToken.None));
        Assert.Equal(JobState.Running, await _jobs.Store.RenewAsync(second, Lease, 5, CancellationToken.None));
        Assert.True(await _jobs.Store.CompleteAsync(second, result, CancellationToken.None));
        Assert.True(await _jobs.Store.TryFinishAsync(job, CancellationToken.None));
        Assert.Equal(JobState.Succeeded, (await _jobs.Store.GetAsync(job, CancellationToken.None))!.State);
    }

    [Fact]
    public async Task A_higher_priority_jobs_partitions_are_leased_first_then_the_older_jobs()
    {
        foreach (var (id, priority) in new[] { ("low", 0), ("high", 5), ("later-low", 0) })
        {
            var job = _jobs.Job("in.csv", options: JobOptions.Default with { Priority = priority });
            Assert.True(await _jobs.Store.CreateAsync(id, job, CancellationToken.None));
            Assert.NotNull(await _jobs.Store.ClaimPlanningAsync(id, "planner", Lease, CancellationToken.None));
            Assert.True(await _jobs.Store.StartAsync(id, "planner", new JobPlan(["id"], [new PartitionSpan(0, 0, 1, 0, 1)]), CancellationToken.None));
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        var order = new List<string>();
        while (await _jobs.Store.LeaseAsync(null, "w", Lease, CancellationToken.None) is { } lease)
        {
            order.Add(lease.JobId);
        }

        Assert.Equal(["high", "low", "later-low"], order);
    }

    [Fact]
    public async Task A_job_finishes_only_when_every_partition_is_done_and_final_jobs_lease_nothing()
    {
        var job = await PlannedJobAsync(2);
        var lease = (await _jobs.Store.LeaseAsync(job, "a", Lease, CancellationToken.None))!;
        Assert.True(await _jobs.Store.CompleteAsync(lease, new PartitionResult(10, 0, new string('0', 64), 1, TimeSpan.Zero), CancellationToken.None));
        Assert.False(await _jobs.Store.TryFinishAsync(job, CancellationToken.None));

        Assert.True(await _jobs.Store.TransitionAsync(job, [JobState.Running], JobState.Cancelled, "stop", CancellationToken.None));
        Assert.Null(await _jobs.Store.LeaseAsync(job, "a", Lease, CancellationToken.None));
        Assert.False(await _jobs.Store.TransitionAsync(job, [JobState.Running], JobState.Paused, null, CancellationToken.None));
        var record = (await _jobs.Store.GetAsync(job, CancellationToken.None))!;
        Assert.Equal((JobState.Cancelled, "stop", 2, 1), (record.State, record.Reason, record.Progress.Partitions, record.Progress.PartitionsDone));
        Assert.NotNull(record.FinishedAt);
    }

    [Fact]
    public async Task A_dead_local_workers_partitions_and_planning_claim_are_taken_back_at_once()
    {
        var job = await PlannedJobAsync(2);
        var dead = $"{Environment.MachineName}:{int.MaxValue - 1}:abcdef";
        var alive = WorkerIdentity.New();
        Assert.NotNull(await _jobs.Store.LeaseAsync(job, dead, Lease, CancellationToken.None));
        Assert.NotNull(await _jobs.Store.LeaseAsync(job, alive, Lease, CancellationToken.None));

        Assert.True(WorkerIdentity.IsDeadLocal(dead));
        Assert.False(WorkerIdentity.IsDeadLocal(alive));
        Assert.False(WorkerIdentity.IsDeadLocal($"another-host:{Environment.ProcessId + 1}:abcdef"));
        Assert.Equal(new[] { alive, dead }.Order(StringComparer.Ordinal), (await _jobs.Store.HoldersAsync(job, CancellationToken.None)).Order(StringComparer.Ordinal));

        await _jobs.Store.ReclaimAsync(job, dead, CancellationToken.None);
        Assert.Equal(0, (await _jobs.Store.LeaseAsync(job, "next", Lease, CancellationToken.None))!.Span.Index);
    }

    [Fact]
    public async Task Definitions_round_trip_through_json_and_every_problem_is_reported_at_once()
    {
        var definition = _jobs.Job("data/in.parquet", DataFormat.Parquet, DataFormat.Csv, JobOptions.Default with { PartitionRows = 7, Retries = 1, Lease = TimeSpan.FromSeconds(9), MaxErrorPercent = 2.5 });
        var read = JobDefinitionJson.Read(JobDefinitionJson.Write(definition), out var none);
        Assert.Empty(none);
        Assert.Equal(JobDefinitionJson.Write(definition), JobDefinitionJson.Write(read!));
        Assert.Equal(9, read!.Options.Lease.TotalSeconds);

        var bad = """{"input": "x.unknown", "output": {"uri": "o", "format": "xml"}, "inputs": {"x": 3}, "keys": "id", "options": {"partition_rows": 0, "retries": -1, "lease_seconds": 0}}""";
        Assert.Null(JobDefinitionJson.Read(bad, out var errors));
        var all = string.Join("\n", errors);
        foreach (var expected in new[] { "'model' is required", "does not say", "'output.format' must be", "'inputs.x' must be", "'keys' must be a list", "'options.lease_seconds' must be 1 to 86400" })
        {
            Assert.Contains(expected, all, StringComparison.Ordinal);
        }

        Assert.Null(JobDefinitionJson.Read(new string('[', 100) + new string(']', 100), out var deep));
        Assert.Contains("not valid JSON", deep[0], StringComparison.Ordinal);
        Assert.Contains("must be 1 to", string.Join("\n", JobDefinitionRules.Check(definition with { Options = definition.Options with { PartitionRows = 0 } })), StringComparison.Ordinal);
    }

    public void Dispose() => _jobs.Dispose();
}
