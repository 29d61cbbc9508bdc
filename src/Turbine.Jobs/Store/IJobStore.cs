using Turbine.Jobs.Definition;

namespace Turbine.Jobs.Store;

/// <summary>
/// Where jobs and their partitions live, shared by every worker of a job: SQLite on one machine, PostgreSQL across
/// machines. Every change that workers race for is one conditional statement, so two workers never both win.
/// </summary>
public interface IJobStore
{
    /// <summary>Creates or upgrades the schema.</summary>
    Task MigrateAsync(CancellationToken cancellationToken);

    /// <summary>Adds a queued job; false when a job with that id exists already (whatever its definition).</summary>
    Task<bool> CreateAsync(string id, JobDefinition definition, CancellationToken cancellationToken);

    /// <summary>The job, with its progress; null when there is none of that id.</summary>
    Task<JobRecord?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>The newest jobs first.</summary>
    Task<IReadOnlyList<JobRecord>> ListAsync(int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Takes a job to plan: <paramref name="jobId"/>, or when null the oldest queued job of the highest priority; a job
    /// whose planner stopped renewing (it died) is taken again once its claim ran out. Null when there is none.
    /// </summary>
    Task<JobRecord?> ClaimPlanningAsync(string? jobId, string owner, TimeSpan claim, CancellationToken cancellationToken);

    /// <summary>Stores the plan and starts the job (validating → running), if <paramref name="owner"/> still holds the claim.</summary>
    Task<bool> StartAsync(string jobId, string owner, JobPlan plan, CancellationToken cancellationToken);

    /// <summary>Moves the job from one of <paramref name="expected"/> to <paramref name="target"/> with a reason; false when it was in none of them.</summary>
    Task<bool> TransitionAsync(string jobId, IReadOnlyCollection<JobState> expected, JobState target, string? reason, CancellationToken cancellationToken);

    /// <summary>Leases the next free partition of a running job (of <paramref name="jobId"/> only, when given); null when there is none.</summary>
    Task<PartitionLease?> LeaseAsync(string? jobId, string owner, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>
    /// Extends a lease and records the rows done so far; returns the job's state, or null when the lease is no longer
    /// this worker's (it ran out and another took the partition).
    /// </summary>
    Task<JobState?> RenewAsync(PartitionLease lease, TimeSpan extension, long rowsDone, CancellationToken cancellationToken);

    /// <summary>Marks the partition done with what it wrote; false when the lease is no longer this worker's.</summary>
    Task<bool> CompleteAsync(PartitionLease lease, PartitionResult result, CancellationToken cancellationToken);

    /// <summary>Gives a partition back unfinished, to be leased again at once.</summary>
    Task ReleaseAsync(PartitionLease lease, CancellationToken cancellationToken);

    /// <summary>The workers that hold a lease on one of the job's partitions, or its planning claim.</summary>
    Task<IReadOnlyList<string>> HoldersAsync(string jobId, CancellationToken cancellationToken);

    /// <summary>Gives back at once everything <paramref name="owner"/> holds of the job (a worker known to be dead), instead of waiting out its leases.</summary>
    Task ReclaimAsync(string jobId, string owner, CancellationToken cancellationToken);

    /// <summary>The job's finished partitions, in order.</summary>
    Task<IReadOnlyList<FinishedPartition>> FinishedPartitionsAsync(string jobId, CancellationToken cancellationToken);

    /// <summary>Marks a running job succeeded once every partition is done; false when one is not, or the job is not running.</summary>
    Task<bool> TryFinishAsync(string jobId, CancellationToken cancellationToken);
}
