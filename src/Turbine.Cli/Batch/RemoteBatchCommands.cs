using System.CommandLine;
using System.Globalization;
using Turbine.Cli.Commands;
using Turbine.Client;
using Turbine.Jobs.Definition;

namespace Turbine.Cli.Batch;

/// <summary>
/// <c>turbine batch submit|status|pause|resume|cancel|results</c>: jobs on a running server, through its REST control
/// plane (the CLI reaches a server only through Turbine.Client).
/// </summary>
internal static class RemoteBatchCommands
{
    public static IEnumerable<Command> Create()
    {
        yield return Submit();
        yield return Status();
        foreach (var action in new[] { "pause", "resume", "cancel" })
        {
            yield return Change(action);
        }

        yield return Results();
    }

    private static Command Submit()
    {
        var connection = new ConnectionOptions();
        var input = new Argument<string>("input") { Description = "The input: a path under the server's job folder, or s3://bucket/key" };
        var shape = new DefinitionOptions();
        var id = new Option<string?>("--id") { Description = "The job's id (default: a new one)" };
        var wait = new Option<bool>("--wait") { Description = "Follow the job to its end with a progress line; exit 0 only when it succeeds" };
        var command = new Command("submit", "Submit a job to a running server (its workers run it on the background lane)") { input, id, wait };
        shape.AddTo(command);
        connection.AddTo(command);
        command.SetAction((parse, token) => RestControlPlane.RunAsync(connection, parse, async client =>
        {
            var definition = shape.Read(parse, parse.GetValue(input)!, out var problems)
                ?? throw new FormatException(string.Join("; ", problems));
            var job = await client.SubmitJobAsync(JobDefinitionJson.Write(definition, parse.GetValue(id)), token);
            Console.WriteLine($"{job.Id} {job.State}");
            if (parse.GetValue(wait))
            {
                job = await FollowAsync(client, job.Id, token);
                if (job.State != "succeeded")
                {
                    throw new TurbineClientException(StatusCode.FailedPrecondition, $"job {job.Id} {job.State}: {job.Reason}");
                }
            }
        }));
        return command;
    }

    private static Command Status()
    {
        var connection = new ConnectionOptions();
        var id = new Argument<string?>("job") { Description = "The job (default: every job)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("status", "Print jobs with their state and progress") { id };
        connection.AddTo(command);
        command.SetAction((parse, token) => RestControlPlane.RunAsync(connection, parse, async client =>
        {
            var jobs = parse.GetValue(id) is { } one ? [await client.GetJobAsync(one, token)] : await client.GetJobsAsync(token);
            foreach (var job in jobs)
            {
                Console.WriteLine(Line(job));
            }
        }));
        return command;
    }

    private static Command Change(string action)
    {
        var connection = new ConnectionOptions();
        var id = new Argument<string>("job") { Description = "The job" };
        var command = new Command(action, action switch
        {
            "pause" => "Stop leasing new partitions of a job; those running finish",
            "resume" => "Go on with a paused or failed job from its finished parts",
            _ => "Stop a job for good; finished parts stay",
        }) { id };
        connection.AddTo(command);
        command.SetAction((parse, token) => RestControlPlane.RunAsync(connection, parse, async client =>
            Console.WriteLine(Line(await client.ControlJobAsync(parse.GetValue(id)!, action, token)))));
        return command;
    }

    private static Command Results()
    {
        var connection = new ConnectionOptions();
        var id = new Argument<string>("job") { Description = "The job" };
        var download = new Option<DirectoryInfo?>("--download") { Description = "Copy every output file (parts, errors/, _SUMMARY.json) into this folder" };
        var command = new Command("results", "List a job's output files, or download them") { id, download };
        connection.AddTo(command);
        command.SetAction((parse, token) => RestControlPlane.RunAsync(connection, parse, async client =>
        {
            var job = parse.GetValue(id)!;
            var results = await client.GetJobResultsAsync(job, token);
            Console.WriteLine($"{job} {results.State}: {results.Output}");
            foreach (var file in results.Files)
            {
                if (parse.GetValue(download) is { } folder)
                {
                    var path = Path.Combine(folder.FullName, file);
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    await using var target = File.Create(path);
                    await client.DownloadJobResultAsync(job, file, target, token);
                }

                Console.WriteLine($"  {file}");
            }
        }));
        return command;
    }

    private static async Task<BatchJob> FollowAsync(TurbineHttpClient client, string id, CancellationToken token)
    {
        var line = Bench.ProgressLine.ForConsole();
        while (true)
        {
            var job = await client.GetJobAsync(id, token);
            if (job.IsFinal)
            {
                line.Done(Line(job));
                return job;
            }

            line.Update(Line(job));
            await Task.Delay(500, token);
        }
    }

    private static string Line(BatchJob job)
    {
        var p = job.Progress;
        var rate = p.RowsPerSecond is { } r ? $", {r.ToString("N0", CultureInfo.InvariantCulture)} rows/s" : string.Empty;
        var eta = p.EtaSeconds is { } e ? $", ETA {TimeSpan.FromSeconds(e):hh\\:mm\\:ss}" : string.Empty;
        return $"{job.Id,-28} {job.State,-10} {p.Percent,5:0.0}%  {p.RowsDone}/{p.Rows} rows, {p.Errors} errors, {p.PartitionsDone}/{p.Partitions} parts{rate}{eta}{(job.Reason is { } reason ? $"  ({reason})" : string.Empty)}";
    }
}
