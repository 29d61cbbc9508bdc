using Turbine.Jobs.Formats;
using Turbine.Jobs.Storage;
using Turbine.Jobs.Store;

namespace Turbine.Jobs.Execution;

/// <summary>
/// The validating step, run once per job by whichever worker claims it: checks the locations, reads the input once to
/// cut it into partitions and learn its columns, compiles the mapping against the model, and starts the job, or
/// fails it with every problem found.
/// </summary>
internal sealed class JobPlanner(IJobStore store, IJobStorage storage, IJobInference inference)
{
    /// <summary>Plans a job this worker claimed; false when it failed (the reason is on the job) or the claim was lost.</summary>
    public async Task<bool> PlanAsync(JobRecord job, string owner, CancellationToken cancellationToken)
    {
        var definition = job.Definition;
        var errors = new List<string>();
        foreach (var uri in new[] { definition.Input.Uri, definition.Output.Uri })
        {
            if (storage.Check(uri) is { } problem)
            {
                errors.Add(problem);
            }
        }

        JobPlan? plan = null;
        if (errors.Count == 0)
        {
            var used = new HashSet<string>([.. definition.Inputs.SelectMany(m => m.Columns), .. definition.Keys], StringComparer.Ordinal);
            try
            {
                plan = await RowSource.For(definition.Input.Format).PlanAsync(storage, definition.Input.Uri, definition.Options.PartitionRows, used, cancellationToken);
                JobContext.Create(job.Id, definition, plan.Columns, inference, errors);
            }
            catch (JobValidationException e)
            {
                errors.Add(e.Message);
            }
            catch (FileNotFoundException)
            {
                errors.Add($"the input '{ClientText.Quote(definition.Input.Uri)}' does not exist");
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Whatever the storage says (a disk error, object storage refusing the key): the job fails with it.
                errors.Add($"the input could not be read: {e.Message}");
            }
        }

        if (errors.Count > 0 || plan is null)
        {
            await store.TransitionAsync(job.Id, [JobState.Validating], JobState.Failed, string.Join("; ", errors), cancellationToken);
            return false;
        }

        return await store.StartAsync(job.Id, owner, plan, cancellationToken);
    }
}
