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
        var command = new Command("list", "Print every route");
        connection.AddTo(command);
        command.SetAction((parse, token) => RestControlPlane.RunAsync(connection, parse, async client =>
            Console.WriteLine(RestControlPlane.Pretty(await client.GetRoutesJsonAsync(token)))));
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
            using var report = JsonDocument.Parse(await client.GetRouteReportJsonAsync(parse.GetValue(name)!, token));
            Console.WriteLine($"{"VARIANT",-24} {"WEIGHT",7} {"REQUESTS",9} {"CONV",13} {"RATE (95% CI)",24} {"p",8} {"VALUES",7} {"MEAN (95% CI)",30} {"p",8}");
            foreach (var arm in report.RootElement.GetProperty("arms").EnumerateArray())
            {
                var conversions = arm.GetProperty("conversions");
                var values = arm.GetProperty("values");
                Console.WriteLine(
                    $"{arm.GetProperty("variant").GetString(),-24} {arm.GetProperty("weight").GetDouble(),7:G4} {arm.GetProperty("requests").GetInt64(),9} " +
                    $"{conversions.GetProperty("successes").GetInt64() + "/" + conversions.GetProperty("trials").GetInt64(),13} " +
                    $"{Interval(conversions, "rate"),24} {Number(conversions, "p_vs_baseline"),8} " +
                    $"{values.GetProperty("count").GetInt64(),7} {Interval(values, "mean"),30} {Number(values, "p_vs_baseline"),8}");
            }

            Console.WriteLine("p: two-sided, against the first arm (two-proportion z-test for rates, Welch's t-test for values)");
            if (report.RootElement.TryGetProperty("shadow", out var shadow))
            {
                Console.WriteLine(
                    $"shadow {shadow.GetProperty("variant").GetString()} ({shadow.GetProperty("share").GetDouble():P0}): mirrored {shadow.GetProperty("mirrored").GetInt64()}, " +
                    $"dropped {shadow.GetProperty("dropped").GetInt64()}, shed {shadow.GetProperty("shed").GetInt64()}, failed {shadow.GetProperty("failed").GetInt64()}, compared {shadow.GetProperty("compared").GetInt64()}; " +
                    $"exact {Number(shadow, "exact_match_rate")}, max |diff| {Number(shadow, "max_abs_diff")}, mean |diff| {Number(shadow, "mean_abs_diff")}, " +
                    $"top-1 {Number(shadow, "top1_agreement")}; mean ms primary {Number(shadow, "primary_mean_ms")} / shadow {Number(shadow, "shadow_mean_ms")}");
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
            var json = parse.GetValue(action) is "status" or null
                ? await client.GetCanaryJsonAsync(route, token)
                : await client.ControlCanaryAsync(route, parse.GetValue(action)!, parse.GetValue(reason), token);
            using var status = JsonDocument.Parse(json);
            var root = status.RootElement;
            var figures = root.GetProperty("figures");
            Console.WriteLine(
                $"{route}: {root.GetProperty("state").GetString()}, step {root.GetProperty("step").GetInt32()} of {root.GetProperty("steps").GetInt32()}, " +
                $"canary {root.GetProperty("canary_percent").GetDouble():G4}%");
            Console.WriteLine(
                $"this step: {figures.GetProperty("requests").GetInt64()} canary requests, {figures.GetProperty("errors").GetInt64()} errors, " +
                $"p99 {Number(figures, "p99_ms")} ms, disagreement {Number(figures, "disagreement")} of {figures.GetProperty("compared").GetInt64()}, " +
                $"{Number(figures, "step_seconds")} s");
            Console.WriteLine($"{"TIME (UTC)",-20} {"ACTION",-9} {"ACTOR",-9} {"CANARY %",-12} REASON");
            foreach (var decision in root.GetProperty("decisions").EnumerateArray())
            {
                Console.WriteLine(
                    $"{decision.GetProperty("time").GetDateTimeOffset().UtcDateTime,-20:yyyy-MM-dd HH:mm:ss} {decision.GetProperty("action").GetString(),-9} " +
                    $"{decision.GetProperty("actor").GetString(),-9} {Number(decision, "from_percent") + " -> " + Number(decision, "to_percent"),-12} {decision.GetProperty("reason").GetString()}");
            }
        }));
        return command;
    }

    private static string Number(JsonElement figures, string name) =>
        figures.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble().ToString("G4", CultureInfo.InvariantCulture) : "-";

    private static string Interval(JsonElement figures, string name) =>
        $"{Number(figures, name)} ({Number(figures, "ci95_low")}..{Number(figures, "ci95_high")})";

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
