using System.Security.Cryptography;
using Turbine.Core.Repository;
using Turbine.Jobs.Definition;
using Turbine.Jobs.Storage;
using Turbine.Jobs.Store;

namespace Turbine.Jobs;

/// <summary>What a request to change a job came to.</summary>
public enum JobChange
{
    /// <summary>Done.</summary>
    Done,

    /// <summary>There is no such job.</summary>
    NotFound,

    /// <summary>The job's state does not allow it (resume a succeeded job, pause a cancelled one).</summary>
    Conflict,

    /// <summary>The request itself is wrong (an id or a location that is not allowed).</summary>
    Invalid,
}

/// <summary>Submits jobs and moves them between states: what the REST API and the CLI call. Workers do the rest.</summary>
public sealed class JobControl(IJobStore store, IJobStorage storage, TimeProvider time)
{
    private static readonly JobState[] Stoppable = [JobState.Queued, JobState.Validating, JobState.Running, JobState.Paused];

    /// <summary>The store behind it.</summary>
    public IJobStore Store => store;

    /// <summary>Where its jobs' files are.</summary>
    public IJobStorage Storage => storage;

    /// <summary>Adds a queued job under <paramref name="id"/> (or a new id); its locations are checked against the storage's rules first.</summary>
    public async Task<(JobChange Outcome, string Message, JobRecord? Job)> SubmitAsync(JobDefinition definition, string? id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(definition);
        id ??= $"job-{time.GetUtcNow():yyyyMMdd-HHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";
        if (!ModelNames.IsValid(id))
        {
            return (JobChange.Invalid, $"'{ClientText.Quote(id)}' is not a valid job id: letters, digits, '.', '_' and '-', up to {ModelNames.MaxLength} characters", null);
        }

        var problems = new[] { storage.Check(definition.Input.Uri), storage.Check(definition.Output.Uri) }.OfType<string>().ToList();
        if (problems.Count > 0)
        {
            return (JobChange.Invalid, string.Join("; ", problems), null);
        }

        if (!await store.CreateAsync(id, definition, cancellationToken))
        {
            return (JobChange.Conflict, $"job '{id}' exists already", await store.GetAsync(id, cancellationToken));
        }

        return (JobChange.Done, "queued", await store.GetAsync(id, cancellationToken));
    }

    /// <summary>Stops leasing new partitions of a running job; those running finish.</summary>
    public Task<(JobChange Outcome, string Message)> PauseAsync(string id, CancellationToken cancellationToken) =>
        MoveAsync(id, [JobState.Running], JobState.Paused, "paused on request", cancellationToken);

    /// <summary>Goes on with a paused job, or a failed one from its finished parts (planning again if it never got that far).</summary>
    public async Task<(JobChange Outcome, string Message)> ResumeAsync(string id, CancellationToken cancellationToken)
    {
        var job = await store.GetAsync(id, cancellationToken);
        if (job is null)
        {
            return (JobChange.NotFound, $"there is no job '{ClientText.Quote(id)}'");
        }

        var target = job.Columns is null ? JobState.Queued : JobState.Running;
        return await MoveAsync(id, [JobState.Paused, JobState.Failed], target, null, cancellationToken);
    }

    /// <summary>Stops the job for good: workers stop leasing and abandon the partitions they hold; finished parts stay.</summary>
    public Task<(JobChange Outcome, string Message)> CancelAsync(string id, CancellationToken cancellationToken) =>
        MoveAsync(id, Stoppable, JobState.Cancelled, "cancelled on request", cancellationToken);

    private async Task<(JobChange Outcome, string Message)> MoveAsync(string id, JobState[] from, JobState to, string? reason, CancellationToken cancellationToken)
    {
        if (await store.TransitionAsync(id, from, to, reason, cancellationToken))
        {
            return (JobChange.Done, to.Name());
        }

        var job = await store.GetAsync(id, cancellationToken);
        return job is null
            ? (JobChange.NotFound, $"there is no job '{ClientText.Quote(id)}'")
            : (JobChange.Conflict, $"job '{id}' is {job.State.Name()}: it cannot become {to.Name()}");
    }
}
