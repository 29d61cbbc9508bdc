using System.CommandLine;
using Turbine.Cli.Validation;

namespace Turbine.Cli.Commands;

/// <summary>
/// <c>turbine validate MODEL_DIR</c>: the checks a CI pipeline runs before a model ships (config, load, golden cases,
/// latency budget), one line per check, and an exit code per failure class (docs/OPTIMIZATION.md).
/// </summary>
internal static class ValidateCommand
{
    public static Command Create()
    {
        var folder = new Argument<DirectoryInfo>("model-dir") { Description = "The model's folder (config and version folders), as in a repository" };
        var golden = new Option<FileInfo?>("--golden") { Description = "JSONL of {\"request\": KServe v2 body, \"expected\": {output: [values]}} cases" };
        var atol = new Option<double>("--atol") { Description = "Absolute tolerance for golden outputs", DefaultValueFactory = _ => 1e-5 };
        var rtol = new Option<double>("--rtol") { Description = "Relative tolerance for golden outputs", DefaultValueFactory = _ => 1e-4 };
        var budget = new Option<double?>("--latency-budget-ms") { Description = "Fail when the in-process p99 at a batch size is above this" };
        var batches = new Option<string>("--batch") { Description = "Batch sizes for the latency check", DefaultValueFactory = _ => "1" };
        var requests = new Option<int>("--requests") { Description = "Timed requests per batch size", DefaultValueFactory = _ => 200 };
        var command = new Command("validate", "Check a model folder before it ships: config, load, golden outputs, latency budget") { folder, golden, atol, rtol, budget, batches, requests };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var directory = parse.GetValue(folder)!;
            if (!directory.Exists)
            {
                Console.Error.WriteLine($"error: {directory.FullName} is not a folder");
                return 1;
            }

            if (parse.GetValue(golden) is { Exists: false } missing)
            {
                Console.Error.WriteLine($"error: the golden file {missing.FullName} does not exist");
                return 1;
            }

            int[] sizes;
            try
            {
                sizes = [.. parse.GetValue(batches)!.Split(',').Select(size => int.Parse(size, System.Globalization.CultureInfo.InvariantCulture))];
            }
            catch (FormatException)
            {
                Console.Error.WriteLine("error: --batch takes comma-separated integers, e.g. 1,8,32");
                return 1;
            }

            var options = new ValidationOptions(parse.GetValue(golden)?.FullName, parse.GetValue(atol), parse.GetValue(rtol), parse.GetValue(budget), sizes, Math.Max(1, parse.GetValue(requests)));
            var results = await new ModelValidator(options).RunAsync(directory.FullName, cancellationToken);
            foreach (var result in results)
            {
                Console.WriteLine(result);
            }

            return results.FirstOrDefault(result => !result.Passed) is { } failed ? (int)failed.Check : 0;
        });
        return command;
    }
}
