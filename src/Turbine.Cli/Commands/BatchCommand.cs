using System.CommandLine;
using Microsoft.Extensions.Logging;
using Turbine.Cli.Batch;
using Turbine.Jobs;
using Turbine.Jobs.Definition;
using Turbine.Jobs.Execution;
using Turbine.Jobs.Storage;
using Turbine.Jobs.Store;
using Turbine.Server.Jobs;

namespace Turbine.Cli.Commands;

/// <summary>
/// <c>turbine batch</c>: score files with a model. <c>run</c> does a whole job in this process (its store in the output
/// folder, so running the same command again resumes it); <c>worker</c> joins a job in a shared store, as the pods of a
/// Kubernetes Indexed Job do; <c>submit</c>, <c>status</c>, <c>pause</c>, <c>resume</c>, <c>cancel</c> and <c>results</c> work
/// with jobs on a running server (docs/BATCH.md).
/// </summary>
internal static class BatchCommand
{
    /// <summary>The job id <c>batch run</c> gives its one job in the output folder's store.</summary>
    public const string RunJobId = "run";

    /// <summary>The store <c>batch run</c> keeps in the output folder.</summary>
    public const string RunStoreName = "_job.db";

    public static Command Create()
    {
        var command = new Command("batch", "Batch prediction: score CSV, JSON lines, Parquet or KServe v2 request files with a model");
        command.Subcommands.Add(Run());
        command.Subcommands.Add(Worker());
        foreach (var remote in RemoteBatchCommands.Create())
        {
            command.Subcommands.Add(remote);
        }

        return command;
    }

    private static Command Run()
    {
        var input = new Argument<string>("input") { Description = "The input file: a path or s3://bucket/key" };
        var shape = new DefinitionOptions();
        var repository = new Option<DirectoryInfo>("--repository", "-r") { Description = "The model repository to load the model from", Required = true };
        var noProgress = new Option<bool>("--no-progress") { Description = "Print a line per partition instead of a live bar" };
        var command = new Command("run", "Score a file in this process; run it again after an interruption and it resumes where it stopped") { input, repository, noProgress };
        shape.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var definition = shape.Read(parse, parse.GetValue(input)!, out var problems);
            if (definition is null)
            {
                return Fail(problems);
            }

            if (definition.Output.IsObjectStorage)
            {
                return Fail(["'batch run' keeps its job store in the output folder: give a local --out, or use 'batch worker' with a shared store for object storage output"]);
            }

            using var logging = LoggerFactory.Create(builder => builder.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
            var time = TimeProvider.System;
            var store = await JobDatabases.SqliteAsync(Path.Combine(definition.Output.Uri, RunStoreName), time, cancellationToken);
            var storage = JobStorages.ForCli();
            var control = new JobControl(store, storage, time);
            var (outcome, message, existing) = await control.SubmitAsync(definition, RunJobId, cancellationToken);
            if (outcome == JobChange.Conflict && existing is not null && JobDefinitionJson.Write(existing.Definition) != JobDefinitionJson.Write(definition))
            {
                return Fail([$"{definition.Output.Uri} holds the output of another job (other model, input or options); choose another --out"]);
            }

            if (outcome == JobChange.Invalid)
            {
                return Fail([message]);
            }

            if (existing is { State: JobState.Failed or JobState.Paused })
            {
                await control.ResumeAsync(RunJobId, cancellationToken);
            }

            return await RunWorkerAsync(store, storage, definition.Model, parse.GetValue(repository)!.FullName, RunJobId, !parse.GetValue(noProgress) && !Console.IsErrorRedirected, logging, cancellationToken);
        });
        return command;
    }

    private static Command Worker()
    {
        var job = new Option<string>("--job") { Description = "The job to work on", Required = true };
        var sqlite = new Option<FileInfo?>("--store") { Description = "The job store: a SQLite file (workers on this machine)" };
        var postgres = new Option<string?>("--store-postgres") { Description = "The job store: a PostgreSQL connection string (workers anywhere); or TURBINE_JOBS_POSTGRES" };
        var definitionFile = new Option<FileInfo?>("--definition") { Description = "A job definition (JSON) to create the job with when the store has none of that id: every pod of an Indexed Job can start with the same one" };
        var repository = new Option<DirectoryInfo>("--repository", "-r") { Description = "The model repository to load the job's model from", Required = true };
        var noProgress = new Option<bool>("--no-progress") { Description = "Print a line per partition instead of a live bar" };
        var command = new Command("worker", "Work on one job in a shared store until it is finished, beside any number of other workers") { job, sqlite, postgres, definitionFile, repository, noProgress };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var logging = LoggerFactory.Create(builder => builder.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
            var time = TimeProvider.System;
            var connection = parse.GetValue(postgres) ?? JobStorages.Variable("TURBINE_JOBS_POSTGRES");
            IJobStore store;
            if (connection is not null)
            {
                store = await JobDatabases.PostgresAsync(connection, time, cancellationToken);
            }
            else if (parse.GetValue(sqlite) is { } file)
            {
                store = await JobDatabases.SqliteAsync(file.FullName, time, cancellationToken);
            }
            else
            {
                return Fail(["give the job store: --store FILE or --store-postgres CONNECTION"]);
            }

            var storage = JobStorages.ForCli();
            var id = parse.GetValue(job)!;
            if (parse.GetValue(definitionFile) is { } path)
            {
                var definition = JobDefinitionJson.Read(await File.ReadAllTextAsync(path.FullName, cancellationToken), out var errors);
                if (definition is null)
                {
                    return Fail(errors);
                }

                var (outcome, message, _) = await new JobControl(store, storage, time).SubmitAsync(definition, id, cancellationToken);
                if (outcome == JobChange.Invalid)
                {
                    return Fail([message]);
                }
            }

            if (await store.GetAsync(id, cancellationToken) is not { } record)
            {
                return Fail([$"the store has no job '{id}' (give --definition to create it)"]);
            }

            return await RunWorkerAsync(store, storage, record.Definition.Model, parse.GetValue(repository)!.FullName, id, !parse.GetValue(noProgress) && !Console.IsErrorRedirected, logging, cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunWorkerAsync(IJobStore store, IJobStorage storage, string model, string repository, string jobId, bool showProgress, ILoggerFactory logging, CancellationToken cancellationToken)
    {
        var (models, error) = await InProcessModels.LoadAsync(repository, model, logging, cancellationToken);
        if (models is null)
        {
            return Fail([error!]);
        }

        await using (models)
        {
            var worker = new JobWorker(store, storage, models.Inference, TimeProvider.System, logging.CreateLogger<JobWorker>());
            var state = await BatchProgress.RunAsync(store, jobId, worker, showProgress, cancellationToken);
            var job = await store.GetAsync(jobId, CancellationToken.None);
            var progress = job!.Progress;
            Console.WriteLine($"job {jobId}: {state?.Name()}, {progress.RowsDone} rows, {progress.Errors} errors, {progress.PartitionsDone}/{progress.Partitions} parts{(job.Reason is { } reason ? $": {reason}" : string.Empty)}");
            return state == JobState.Succeeded ? 0 : 3;
        }
    }

    private static int Fail(IEnumerable<string> problems)
    {
        foreach (var problem in problems)
        {
            Console.Error.WriteLine($"error: {problem}");
        }

        return 2;
    }
}
