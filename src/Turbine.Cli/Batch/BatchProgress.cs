using Spectre.Console;
using Turbine.Jobs;
using Turbine.Jobs.Execution;
using Turbine.Jobs.Store;

namespace Turbine.Cli.Batch;

/// <summary>
/// The live view of a job while a worker in this process runs it (Spectre.Console): a bar over the job's rows with
/// rows/s, ETA and errors, refreshed from the store (finished partitions) and the worker (rows of the partition in
/// hand). Redirected output gets a plain line per partition instead.
/// </summary>
internal static class BatchProgress
{
    public static async Task<JobState?> RunAsync(IJobStore store, string jobId, JobWorker worker, bool show, CancellationToken cancellationToken)
    {
        if (!show)
        {
            return await worker.RunAsync(jobId, cancellationToken);
        }

        long inPartition = 0;
        worker.RowsDone += rows => Volatile.Write(ref inPartition, rows);
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        JobState? final = null;
        await console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask("planning", maxValue: 1);
                var run = worker.RunAsync(jobId, cancellationToken);
                var started = TimeProvider.System.GetTimestamp();
                var lastDone = 0L;
                while (!run.IsCompleted)
                {
                    await Task.WhenAny(run, Task.Delay(250, CancellationToken.None));
                    if (await store.GetAsync(jobId, CancellationToken.None) is not { } job)
                    {
                        continue;
                    }

                    var progress = job.Progress;
                    var finishedRows = progress.RowsDone;
                    var done = Math.Max(lastDone, finishedRows + Volatile.Read(ref inPartition));
                    lastDone = Math.Min(done, Math.Max(progress.Rows, 1));
                    var seconds = Math.Max(TimeProvider.System.GetElapsedTime(started).TotalSeconds, 0.001);
                    task.MaxValue = Math.Max(progress.Rows, 1);
                    task.Value = lastDone;
                    task.Description = $"{job.State.Name()} {lastDone:N0}/{progress.Rows:N0} rows  {lastDone / seconds:N0} rows/s  {progress.Errors:N0} errors  {progress.PartitionsDone}/{progress.Partitions} parts";
                }

                final = await run;
                task.Value = task.MaxValue;
            });
        return final;
    }
}
