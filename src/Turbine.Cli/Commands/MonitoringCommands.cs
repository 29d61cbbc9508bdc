using System.CommandLine;
using System.Globalization;
using Turbine.Client;

namespace Turbine.Cli.Commands;

/// <summary><c>turbine drift MODEL</c> and <c>turbine cost</c>: a running server's monitoring, read through the client (docs/MONITORING.md).</summary>
internal static class MonitoringCommands
{
    public static Command Drift()
    {
        var connection = new ConnectionOptions();
        var model = new Argument<string>("model") { Description = "The model" };
        var version = new Option<string?>("--model-version") { Description = "One version (default: every monitored version)" };
        var command = new Command("drift", "A model's drift per feature over its window, dataset and prediction drift, and its estimated accuracy") { model, version };
        connection.AddTo(command);
        command.SetAction((parse, token) => RestControlPlane.RunAsync(connection, parse, async client =>
        {
            var drift = await client.GetDriftAsync(parse.GetValue(model)!, parse.GetValue(version), token);
            foreach (var report in drift.Versions)
            {
                Print(drift.Model, report);
            }
        }));
        return command;
    }

    public static Command Cost()
    {
        var connection = new ConnectionOptions();
        var command = new Command("cost", "CPU and GPU time, and what it cost, per model version, route arm, batch job and API key");
        connection.AddTo(command);
        command.SetAction((parse, token) => RestControlPlane.RunAsync(connection, parse, async client =>
        {
            var cost = await client.GetCostAsync(token);
            Console.WriteLine($"process CPU {cost.CpuSeconds:F2} s ({cost.IdleCpuSeconds:F2} s idle) at {cost.CoreHourPrice.ToString(CultureInfo.InvariantCulture)} {cost.Currency} a core-hour");
            Table("MODEL VERSION", cost.Models, l => $"{l.Model} {l.Version}", l => l.Inferences);
            Table("ROUTE ARM", cost.Routes, l => $"{l.Route} {l.Variant}", l => l.Requests);
            Table("JOB", cost.Jobs, l => l.Job ?? string.Empty, l => l.Requests);
            Table("API KEY", cost.ApiKeys, l => l.ApiKey ?? string.Empty, l => l.Requests);

            void Table(string title, IReadOnlyList<CostLineView> all, Func<CostLineView, string> name, Func<CostLineView, long> count)
            {
                var lines = all.Where(l => count(l) > 0 || l.CpuSeconds > 0).ToList(); // loaded but never used: nothing to say
                if (lines.Count == 0)
                {
                    return;
                }

                Console.WriteLine();
                Console.WriteLine($"{title,-32} {"COUNT",10} {"CPU s",10} {"GPU s",10} {"COST",12} {"PER 1K",12}");
                foreach (var line in lines)
                {
                    Console.WriteLine($"{name(line),-32} {count(line),10} {line.CpuSeconds,10:F3} {line.GpuSeconds,10:F3} {line.Cost,12:G5} {line.CostPerThousand,12:G5}");
                }
            }
        }));
        return command;
    }

    private static void Print(string model, VersionDrift report)
    {
        Console.WriteLine($"{model} version {report.Version}: window {report.Window.Rows}/{report.Window.MaxRows} rows{(report.Window.Seconds > 0 ? $" within {report.Window.Seconds} s" : string.Empty)}");
        if (!report.HasProfile)
        {
            Console.WriteLine("  no reference profile (turbine profile DATA --model M -r REPO writes one)");
        }
        else if (!report.Judged)
        {
            Console.WriteLine($"  collecting: drift is judged from {report.Window.MinRows} rows");
        }
        else
        {
            Console.WriteLine($"  dataset drift: {(report.DatasetDrift ? "YES" : "no")} ({report.DriftedShare:P0} of input features drifted); prediction drift: {(report.PredictionDrift ? "YES" : "no")}");
            Console.WriteLine($"  {"FEATURE",-24} {"SOURCE",-7} {"METHOD",-14} {"SCORE",10} {"THRESHOLD",10} {"DRIFT",6} {"MISSING",8}");
            foreach (var feature in report.Features)
            {
                Console.WriteLine($"  {feature.Name,-24} {feature.Source,-7} {feature.Method,-14} {feature.Score,10:G4} {feature.Threshold,10:G4} {(feature.Drifted ? "YES" : "no"),6} {feature.MissingShare,8:P1}");
            }
        }

        if (report.Performance is { } performance)
        {
            Console.WriteLine(
                $"  accuracy: estimated {Number(performance.EstimatedAccuracy)}{(performance.Calibrated ? " (calibrated)" : string.Empty)}, reference {Number(performance.ReferenceAccuracy)}, " +
                $"measured {Number(performance.MeasuredAccuracy)} over {performance.Labelled} labels");
        }
    }

    private static string Number(double? value) => value is { } number ? number.ToString("F4", CultureInfo.InvariantCulture) : "-";
}
