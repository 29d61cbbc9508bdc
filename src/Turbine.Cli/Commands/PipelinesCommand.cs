using System.CommandLine;
using System.Globalization;
using System.Text.Json;

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
        var command = new Command("list", "Print every pipeline");
        connection.AddTo(command);
        command.SetAction((parse, token) => RestControlPlane.RunAsync(connection, parse, async client =>
            Console.WriteLine(RestControlPlane.Pretty(await client.GetPipelinesJsonAsync(token)))));
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
            using var stats = JsonDocument.Parse(await client.GetPipelineStatsJsonAsync(parse.GetValue(name)!, token));
            var root = stats.RootElement;
            Console.WriteLine($"{root.GetProperty("name").GetString()}: {Count(root, "success")} answered ({MeanMs(root, "success")} ms mean), {Count(root, "fail")} failed");
            Console.WriteLine($"{"STEP",-20} {"KIND",-10} {"OK",8} {"FAILED",8} {"MEAN MS",9}  DETAIL");
            foreach (var step in root.GetProperty("steps").EnumerateArray())
            {
                var detail = step.TryGetProperty("escalated_share", out var escalated)
                    ? $"escalated {escalated.GetDouble():P1}: " + string.Join(", ", step.GetProperty("stages").EnumerateArray().Select(s => $"{s.GetProperty("model").GetString()} {s.GetProperty("answered").GetInt64()}"))
                    : step.TryGetProperty("cases", out var cases) ? string.Join(", ", cases.EnumerateObject().Select(c => $"{c.Name} {c.Value.GetInt64()}")) : "";
                Console.WriteLine(
                    $"{step.GetProperty("name").GetString(),-20} {step.GetProperty("kind").GetString(),-10} {Count(step, "success"),8} {Count(step, "fail"),8} {MeanMs(step, "success"),9}  {detail}");
            }
        }));
        return command;
    }

    private static long Count(JsonElement figures, string name) => figures.GetProperty(name).GetProperty("count").GetInt64();

    private static string MeanMs(JsonElement figures, string name)
    {
        var count = Count(figures, name);
        return count == 0 ? "-" : (figures.GetProperty(name).GetProperty("ns").GetInt64() / 1e6 / count).ToString("F3", CultureInfo.InvariantCulture);
    }
}
