using System.CommandLine;
using System.Globalization;

namespace Turbine.Cli.Commands;

/// <summary><c>turbine pipelines list|set|delete|stats</c>: model pipelines from the shell (REST control plane).</summary>
internal static class PipelinesCommand
{
    public static Command Create()
    {
        var command = new Command("pipelines", "List, set and delete pipelines (ensembles, switches, cascades), and show their statistics");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Set());
        command.Subcommands.Add(Delete());
        command.Subcommands.Add(Stats());
        return command;
    }

    private static Command List()
    {
        var connection = new ConnectionOptions();
        var json = new Option<bool>("--json") { Description = "Print the whole definitions, as the server stores them" };
        var command = new Command("list", "Print every pipeline and its steps") { json };
        connection.AddTo(command);
        command.SetAction((parse, token) => RestControlPlane.RunAsync(connection, parse, async client =>
        {
            foreach (var pipeline in await client.GetPipelinesAsync(token))
            {
                Console.WriteLine(parse.GetValue(json) ? RestControlPlane.Pretty(pipeline.Json) : $"{pipeline.Name,-24} {string.Join(" -> ", pipeline.Steps)}");
            }
        }));
        return command;
    }

    private static Command Set()
    {
        var connection = new ConnectionOptions();
        var name = new Argument<string>("pipeline") { Description = "The pipeline's name (the model name clients call)" };
        var file = new Option<FileInfo>("--file") { Description = "The pipeline JSON file (docs/TRAFFIC.md)", Required = true };
        var command = new Command("set", "Add or replace a pipeline from a JSON file") { name, file };
        connection.AddTo(command);
        command.SetAction((parse, token) => RestControlPlane.RunAsync(connection, parse, async client =>
        {
            var json = await File.ReadAllTextAsync(parse.GetValue(file)!.FullName, token);
            Console.WriteLine(RestControlPlane.Pretty(await client.SetPipelineAsync(parse.GetValue(name)!, json, token)));
        }));
        return command;
    }

    private static Command Delete()
    {
        var connection = new ConnectionOptions();
        var name = new Argument<string>("pipeline") { Description = "The pipeline's name" };
        var command = new Command("delete", "Delete a pipeline") { name };
        connection.AddTo(command);
        command.SetAction((parse, token) => RestControlPlane.RunAsync(connection, parse, async client =>
        {
            await client.DeletePipelineAsync(parse.GetValue(name)!, token);
            Console.WriteLine($"{parse.GetValue(name)} deleted");
        }));
        return command;
    }

    private static Command Stats()
    {
        var connection = new ConnectionOptions();
        var name = new Argument<string>("pipeline") { Description = "The pipeline's name" };
        var command = new Command("stats", "Requests, each step's executions and mean time, cascade escalation and switch cases") { name };
        connection.AddTo(command);
        command.SetAction((parse, token) => RestControlPlane.RunAsync(connection, parse, async client =>
        {
            var stats = await client.GetPipelineStatisticsAsync(parse.GetValue(name)!, token);
            Console.WriteLine($"{stats.Name}: {stats.Success.Count} answered ({MeanMs(stats.Success)} ms mean), {stats.Fail.Count} failed");
            Console.WriteLine($"{"STEP",-20} {"KIND",-10} {"OK",8} {"FAILED",8} {"MEAN MS",9}  DETAIL");
            foreach (var step in stats.Steps)
            {
                var detail = step.EscalatedShare is { } escalated
                    ? $"escalated {escalated:P1}: " + string.Join(", ", (step.Stages ?? []).Select(s => $"{s.Model} {s.Answered}"))
                    : step.Cases is { } cases ? string.Join(", ", cases.Select(c => $"{c.Key} {c.Value}")) : "";
                Console.WriteLine($"{step.Name,-20} {step.Kind,-10} {step.Success.Count,8} {step.Fail.Count,8} {MeanMs(step.Success),9}  {detail}");
            }
        }));
        return command;
    }

    private static string MeanMs(Client.DurationFigures figures) => figures.MeanMilliseconds?.ToString("F3", CultureInfo.InvariantCulture) ?? "-";
}
