using Microsoft.Extensions.Logging;
using Turbine.Jobs.Storage;
using Turbine.Jobs.Store;

namespace Turbine.Jobs.Execution;

/// <summary>
/// One worker: plans queued jobs it claims, then leases partitions one at a time, scores each, publishes its part,
/// and completes it in the store, renewing the lease while it works. Any number of workers, in one process or many,
/// share a job through the store; a partition is done once, and one whose worker died is leased again when its lease
/// runs out. A worker stops when its job is final (or, serving every job, when it is stopped).
/// </summary>
public sealed partial class JobWorker
{
    private readonly IJobStore _store;
    private readonly IJobStorage _storage;
    private readonly IJobInference _inference;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly JobPlanner _planner;
    private readonly PartitionProcessor _processor;
    private readonly Dictionary<string, JobContext> _contexts = new(StringComparer.Ordinal);

    public JobWorker(IJobStore store, IJobStorage storage, IJobInference inference, TimeProvider time, ILogger logger, string? owner = null)
    {
        _store = store;
        _storage = storage;
        _inference = inference;
        _time = time;
        _logger = logger;
        Owner = owner ?? WorkerIdentity.New();
        _planner = new JobPlanner(store, storage, inference);
        _processor = new PartitionProcessor(inference, storage, time);
    }

    /// <summary>This worker's name in leases.</summary>
    public string Owner { get; }

    /// <summary>How long the worker waits before looking again when there is nothing to lease.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Rows done in the partition being scored now, as they finish (for progress bars).</summary>
    public event Action<long>? RowsDone;

    /// <summary>
    /// Works on <paramref name="jobId"/> until it is final, or, when null, on every job until cancelled. Returns the
    /// job's last state (null when serving every job).
    /// </summary>
    public async Task<JobState?> RunAsync(string? jobId, CancellationToken cancellationToken)
    {
        if (jobId is not null)
        {
            await ReclaimFromDeadWorkersAsync(jobId, cancellationToken);
        }

        while (!cancellationToken.IsCancellationRequested)
        {
            if (await _store.ClaimPlanningAsync(jobId, Owner, TimeSpan.FromMinutes(5), cancellationToken) is { } toPlan)
            {
                LogPlanning(_logger, toPlan.Id);
                await _planner.PlanAsync(toPlan, Owner, cancellationToken);
                continue;
            }

            if (await _store.LeaseAsync(jobId, Owner, LeaseFor(jobId), cancellationToken) is { } lease)
            {
                await WorkAsync(lease, cancellationToken);
                continue;
            }

            if (jobId is not null)
            {
                var job = await _store.GetAsync(jobId, cancellationToken) ?? throw new InvalidOperationException($"there is no job '{jobId}'");
                if (job.State.IsFinal() || (job.State == JobState.Running && job.Progress.PartitionsDone == job.Progress.Partitions && await FinishAsync(job.Id, cancellationToken)))
                {
                    var final = (await _store.GetAsync(jobId, cancellationToken))!.State;
                    if (final == JobState.Succeeded)
                    {
                        // Again, for a worker that died between finishing the job and clearing its scratch files.
                        _storage.ClearScratch(job.Definition.Output.Uri);
                    }

                    return final;
                }
            }

            await Task.Delay(PollInterval, _time, cancellationToken);
        }

        cancellationToken.ThrowIfCancellationRequested();
        return null;
    }

    private async Task WorkAsync(PartitionLease lease, CancellationToken cancellationToken)
    {
        var job = await ContextAsync(lease.JobId, cancellationToken);
        if (job is null)
        {
            await _store.ReleaseAsync(lease, cancellationToken);
            return;
        }

        var leaseTime = job.Definition.Options.Lease;
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        long rowsDone = 0;
        void Progress(long rows)
        {
            Volatile.Write(ref rowsDone, rows);
            RowsDone?.Invoke(rows);
        }

        async Task<bool> MayPublishAsync(CancellationToken token) =>
            await _store.RenewAsync(lease, leaseTime, Volatile.Read(ref rowsDone), token) is JobState.Running or JobState.Paused;

        var renewal = RenewWhileWorkingAsync(lease, leaseTime, () => Volatile.Read(ref rowsDone), abandon);
        try
        {
            var result = await _processor.ProcessAsync(job, lease.Span, Owner, Progress, MayPublishAsync, abandon.Token);
            await abandon.CancelAsync();
            await renewal;
            if (await _store.CompleteAsync(lease, result, cancellationToken))
            {
                LogPartitionDone(_logger, lease.JobId, lease.Span.Index, result.Rows, result.Errors);
                await AfterPartitionAsync(job, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // The job was cancelled or failed, the lease was lost, or this worker is stopping: abandon the partition
            // (its files were never published) and give it back, so another worker takes it at once.
            await abandon.CancelAsync();
            await renewal;
            await _store.ReleaseAsync(lease, CancellationToken.None);
            cancellationToken.ThrowIfCancellationRequested();
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            // SECURITY.md F4: the disk filled (or the store of outputs failed) while writing, or the input changed
            // under the job. Nothing of this part was published and earlier parts are intact; the job fails with the
            // reason and a resume goes on from here.
            await abandon.CancelAsync();
            await renewal;
            await _store.ReleaseAsync(lease, CancellationToken.None);
            await _store.TransitionAsync(lease.JobId, [JobState.Running, JobState.Paused], JobState.Failed, $"part {lease.Span.Index} failed: {e.Message}", CancellationToken.None);
            LogWriteFailed(_logger, lease.JobId, lease.Span.Index, e.Message);
        }
        finally
        {
            await abandon.CancelAsync();
        }
    }

    /// <summary>Renews the lease at a third of its length; abandons the partition when the job stops or the lease is lost.</summary>
    private async Task RenewWhileWorkingAsync(PartitionLease lease, TimeSpan leaseTime, Func<long> rowsDone, CancellationTokenSource abandon)
    {
        try
        {
            while (true)
            {
                await Task.Delay(leaseTime / 3, _time, abandon.Token);
                var state = await _store.RenewAsync(lease, leaseTime, rowsDone(), abandon.Token);
                if (state is null or JobState.Cancelled or JobState.Failed)
                {
                    await abandon.CancelAsync();
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The partition finished or was abandoned.
        }
    }

    /// <summary>Checks the error budget and finishes the job when this was its last partition.</summary>
    private async Task AfterPartitionAsync(JobContext job, CancellationToken cancellationToken)
    {
        var record = await _store.GetAsync(job.JobId, cancellationToken);
        if (record is null)
        {
            return;
        }

        var budget = job.Definition.Options.MaxErrorPercent / 100 * record.Progress.Rows;
        if (record.Progress.Errors > budget)
        {
            var reason = $"{record.Progress.Errors} row errors passed the budget of {job.Definition.Options.MaxErrorPercent}% of {record.Progress.Rows} rows; see the dead letters in errors/";
            await _store.TransitionAsync(job.JobId, [JobState.Running, JobState.Paused], JobState.Failed, reason, cancellationToken);
            return;
        }

        if (record.Progress.PartitionsDone == record.Progress.Partitions)
        {
            await FinishAsync(job.JobId, cancellationToken);
        }
    }

    /// <summary>Writes the summary, then marks the job succeeded (both idempotent: workers finishing together write the same file).</summary>
    private async Task<bool> FinishAsync(string jobId, CancellationToken cancellationToken)
    {
        var record = await _store.GetAsync(jobId, cancellationToken);
        if (record is not { State: JobState.Running })
        {
            return false;
        }

        var parts = await _store.FinishedPartitionsAsync(jobId, cancellationToken);
        if (parts.Count != record.Progress.Partitions)
        {
            return false;
        }

        try
        {
            await JobSummary.WriteAsync(_storage, record, parts, _time.GetUtcNow(), cancellationToken);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            // Workers finishing together each write the same summary; the first to finish the job clears the scratch
            // folder, taking a slower one's summary file with it. That one has nothing left to do.
            if ((await _store.GetAsync(jobId, cancellationToken))?.State == JobState.Succeeded)
            {
                return false;
            }

            throw;
        }

        var finished = await _store.TryFinishAsync(jobId, cancellationToken);
        if (finished)
        {
            _storage.ClearScratch(record.Definition.Output.Uri);
            LogJobSucceeded(_logger, jobId, record.Progress.RowsDone, record.Progress.Errors);
        }

        return finished;
    }

    private async Task<JobContext?> ContextAsync(string jobId, CancellationToken cancellationToken)
    {
        if (_contexts.TryGetValue(jobId, out var known))
        {
            return known;
        }

        var record = await _store.GetAsync(jobId, cancellationToken);
        if (record?.Columns is not { } columns)
        {
            return null;
        }

        var errors = new List<string>();
        var context = JobContext.Create(jobId, record.Definition, columns, _inference, errors);
        if (context is null)
        {
            // The model changed under the job (unloaded, a new version with other inputs): the job cannot go on.
            await _store.TransitionAsync(jobId, [JobState.Running, JobState.Paused], JobState.Failed, string.Join("; ", errors), cancellationToken);
            return null;
        }

        _contexts[jobId] = context;
        return context;
    }

    private TimeSpan LeaseFor(string? jobId) =>
        jobId is not null && _contexts.TryGetValue(jobId, out var job) ? job.Definition.Options.Lease : Definition.JobOptions.Default.Lease;

    private async Task ReclaimFromDeadWorkersAsync(string jobId, CancellationToken cancellationToken)
    {
        foreach (var holder in await _store.HoldersAsync(jobId, cancellationToken))
        {
            if (WorkerIdentity.IsDeadLocal(holder))
            {
                LogReclaimed(_logger, jobId, holder);
                await _store.ReclaimAsync(jobId, holder, cancellationToken);
            }
        }
    }

    [LoggerMessage(EventId = LogEvents.JobPlanning, Level = LogLevel.Information, Message = "Planning batch job {Job}")]
    private static partial void LogPlanning(ILogger logger, string job);

    [LoggerMessage(EventId = LogEvents.JobPartitionDone, Level = LogLevel.Debug, Message = "Batch job {Job}: partition {Partition} done, {Rows} rows, {Errors} errors")]
    private static partial void LogPartitionDone(ILogger logger, string job, int partition, long rows, long errors);

    [LoggerMessage(EventId = LogEvents.JobPartitionFailed, Level = LogLevel.Error, Message = "Batch job {Job}: partition {Partition} failed, the job fails: {Reason}")]
    private static partial void LogWriteFailed(ILogger logger, string job, int partition, string reason);

    [LoggerMessage(EventId = LogEvents.JobSucceeded, Level = LogLevel.Information, Message = "Batch job {Job} succeeded: {Rows} rows read, {Errors} row errors")]
    private static partial void LogJobSucceeded(ILogger logger, string job, long rows, long errors);

    [LoggerMessage(EventId = LogEvents.JobLeasesReclaimed, Level = LogLevel.Information, Message = "Batch job {Job}: took back the partitions of worker {Worker}, whose process is gone")]
    private static partial void LogReclaimed(ILogger logger, string job, string worker);
}
