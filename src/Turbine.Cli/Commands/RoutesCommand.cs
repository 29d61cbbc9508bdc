using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Turbine.Client;

namespace Turbine.Cli.Commands;

/// <summary><c>turbine routes list|set|delete|report|canary</c>: traffic routes from the shell (REST control plane).</summary>
internal static class RoutesCommand
{
    public static Command Create()
    {
        var command = new Command("routes", "List, set and delete traffic routes (weighted variants of models)");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Set());
        command.Subcommands.Add(Delete());
        command.Subcommands.Add(Report());
        command.Subcommands.Add(Canary());
        return command;
    }

    private static Command List()
    {
        var connection = new ConnectionOptions();
        var json = new Option<bool>("--json") { Description = "Print the whole definitions, as the server stores them" };
        var command = new Command("list", "Print every route and its variants") { json };
        connection.AddTo(command);
        command.SetAction((parse, token) => RestControlPlane.RunAsync(connection, parse, async client =>
        {
            foreach (var route in await client.GetRoutesAsync(token))
            {
                Console.WriteLine(parse.GetValue(json)
                    ? RestControlPlane.Pretty(route.Json)
                    : $"{route.Name,-24} {string.Join(", ", route.Variants.Select(v => $"{v.Name}={v.Weight.ToString("G4", CultureInfo.InvariantCulture)}"))}");
            }
        }));
        return command;
    }

    private static Command Set()
    {
        var connection = new ConnectionOptions();
        var name = new Argument<string>("route") { Description = "The route's name (the model name clients call)" };
        var variants = new Option<string[]>("--variant")
        {
            Description = "model[:version-or-label]=weight; repeat for each variant",
            AllowMultipleArgumentsPerToken = true,
        };
        var sticky = new Option<string?>("--sticky-parameter") { Description = "Request parameter whose value keeps a caller in one variant" };
        var file = new Option<FileInfo?>("--file") { Description = "A route JSON file (docs/TRAFFIC.md) with everything: shadow, resilience, canary" };
        var command = new Command("set", "Add or replace a route, from --variant arguments or a --file") { name, variants, sticky, file };
        command.Validators.Add(result =>
        {
            if ((result.GetValue(file) is null) == (result.GetValue(variants) is not { Length: > 0 }))
            {
                result.AddError("give either --variant (one or more) or --file");
            }
        });
        connection.AddTo(command);
        command.SetAction((parse, token) => RestControlPlane.RunAsync(connection, parse, async client =>
        {
            var json = parse.GetValue(file) is { } path
                ? await File.ReadAllTextAsync(path.FullName, token)
                : RouteBody(parse.GetValue(variants)!, parse.GetValue(sticky));
            Console.WriteLine(RestControlPlane.Pretty(await client.SetRouteAsync(parse.GetValue(name)!, json, token)));
        }));
        return command;
    }

    private static Command Delete()
    {
        var connection = new ConnectionOptions();
        var name = new Argument<string>("route") { Description = "The route's name" };
        var command = new Command("delete", "Delete a route") { name };
        connection.AddTo(command);
        command.SetAction((parse, token) => RestControlPlane.RunAsync(connection, parse, async client =>
        {
            await client.DeleteRouteAsync(parse.GetValue(name)!, token);
            Console.WriteLine($"{parse.GetValue(name)} deleted");
        }));
        return command;
    }

    private static Command Report()
    {
        var connection = new ConnectionOptions();
        var name = new Argument<string>("route") { Description = "The route's name" };
        var command = new Command("report", "Per-arm requests and feedback, with 95% intervals and tests against the first arm") { name };
        connection.AddTo(command);
        command.SetAction((parse, token) => RestControlPlane.RunAsync(connection, parse, async client =>
        {
            var report = await client.GetRouteReportAsync(parse.GetValue(name)!, token);
            Console.WriteLine($"{"VARIANT",-24} {"WEIGHT",7} {"REQUESTS",9} {"CONV",13} {"RATE (95% CI)",24} {"p",8} {"VALUES",7} {"MEAN (95% CI)",30} {"p",8}");
            foreach (var arm in report.Arms)
            {
                var (conversions, values) = (arm.Conversions, arm.Values);
                Console.WriteLine(
                    $"{arm.Variant,-24} {arm.Weight,7:G4} {arm.Requests,9} {conversions.Successes + "/" + conversions.Trials,13} " +
                    $"{Interval(conversions.Rate, conversions.Ci95Low, conversions.Ci95High),24} {Number(conversions.PVsBaseline),8} " +
                    $"{values.Count,7} {Interval(values.Mean, values.Ci95Low, values.Ci95High),30} {Number(values.PVsBaseline),8}");
            }

            Console.WriteLine("p: two-sided, against the first arm (two-proportion z-test for rates, Welch's t-test for values)");
            if (report.Shadow is { } shadow)
            {
                Console.WriteLine(
                    $"shadow {shadow.Variant} ({shadow.Share:P0}): mirrored {shadow.Mirrored}, dropped {shadow.Dropped}, shed {shadow.Shed}, failed {shadow.Failed}, " +
                    $"compared {shadow.Compared}; exact {Number(shadow.ExactMatchRate)}, max |diff| {Number(shadow.MaxAbsDiff)}, mean |diff| {Number(shadow.MeanAbsDiff)}, " +
                    $"top-1 {Number(shadow.Top1Agreement)}; mean ms primary {Number(shadow.PrimaryMeanMs)} / shadow {Number(shadow.ShadowMeanMs)}");
            }
        }));
        return command;
    }

    private static Command Canary()
    {
        var connection = new ConnectionOptions();
        var name = new Argument<string>("route") { Description = "The route's name" };
        var action = new Argument<string>("action")
        {
            Description = "status (the default), pause, resume, promote (to the next step) or rollback",
            DefaultValueFactory = _ => "status",
        };
        action.AcceptOnlyFromAmong("status", "pause", "resume", "promote", "rollback");
        var reason = new Option<string?>("--reason") { Description = "Why, for the audit log" };
        var command = new Command("canary", "Show or steer a route's canary rollout") { name, action, reason };
        connection.AddTo(command);
        command.SetAction((parse, token) => RestControlPlane.RunAsync(connection, parse, async client =>
        {
            var route = parse.GetValue(name)!;
            var status = parse.GetValue(action) is "status" or null
                ? await client.GetCanaryAsync(route, token)
                : await client.ControlCanaryAsync(route, parse.GetValue(action)!, parse.GetValue(reason), token);
            var figures = status.Figures;
            Console.WriteLine($"{route}: {status.State}, step {status.Step} of {status.Steps}, canary {status.CanaryPercent:G4}%");
            Console.WriteLine(
                $"this step: {figures.Requests} canary requests, {figures.Errors} errors, p99 {Number(figures.P99Ms)} ms, " +
                $"disagreement {Number(figures.Disagreement)} of {figures.Compared}, {Number(figures.StepSeconds)} s");
            Console.WriteLine($"{"TIME (UTC)",-20} {"ACTION",-9} {"ACTOR",-9} {"CANARY %",-12} REASON");
            foreach (var decision in status.Decisions)
            {
                Console.WriteLine(
                    $"{decision.Time.UtcDateTime,-20:yyyy-MM-dd HH:mm:ss} {decision.Action,-9} {decision.Actor,-9} " +
                    $"{Number(decision.FromPercent) + " -> " + Number(decision.ToPercent),-12} {decision.Reason}");
            }
        }));
        return command;
    }

    private static string Number(double? value) => value?.ToString("G4", CultureInfo.InvariantCulture) ?? "-";

    private static string Interval(double? value, double? low, double? high) => $"{Number(value)} ({Number(low)}..{Number(high)})";

    /// <summary>Builds the route body from <c>model[:version]=weight</c> arguments.</summary>
    private static string RouteBody(string[] variants, string? sticky)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("variants");
            foreach (var variant in variants)
            {
                var equals = variant.LastIndexOf('=');
                if (equals <= 0 || !double.TryParse(variant[(equals + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var weight))
                {
                    throw new FormatException($"'{variant}' is not model[:version]=weight");
                }

                var target = variant[..equals].Split(':', 2);
                writer.WriteStartObject();
                writer.WriteString("model", target[0]);
                if (target.Length == 2)
                {
                    writer.WriteString("version", target[1]);
                }

                writer.WriteNumber("weight", weight);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            if (sticky is not null)
            {
                writer.WriteString("sticky_parameter", sticky);
            }

            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
