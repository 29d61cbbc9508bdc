using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Turbine.Cli.Batch;
using Turbine.Core.Execution;
using Turbine.Jobs.Definition;
using Turbine.Jobs.Execution;
using Turbine.Monitoring.Profiles;
using Turbine.Server.Jobs;

namespace Turbine.Cli.Commands;

/// <summary>
/// <c>turbine profile DATA --model M -r REPO</c>: runs reference data (CSV, JSON lines, Parquet) through the model as a
/// batch job in this process, profiles every input feature and output from the requests and answers, and writes the
/// profile beside the version's model file, where the server's drift monitoring finds it (docs/MONITORING.md). With
/// <c>--label COLUMN</c> the classifier's confidence is calibrated against the true classes.
/// </summary>
internal static class ProfileCommand
{
    public static Command Create()
    {
        var data = new Argument<string>("data") { Description = "The reference data: a CSV, JSON lines or Parquet file (a path or s3://bucket/key)" };
        var model = new Option<string>("--model", "-m") { Description = "The model to profile", Required = true };
        var repository = new Option<DirectoryInfo>("--repository", "-r") { Description = "The model repository to load the model from", Required = true };
        var version = new Option<string?>("--model-version") { Description = "A version number or label (default: the model's default version)" };
        var format = new Option<string?>("--format") { Description = "The data's format when its name does not say: csv, jsonl or parquet" };
        var map = new Option<string[]>("--map") { Description = "INPUT=COLUMN[,COLUMN...]: the columns that feed a model input (default: the column named like the input)", AllowMultipleArgumentsPerToken = true };
        var label = new Option<string?>("--label") { Description = "The column holding each row's true class (an index), to calibrate the classifier's confidence" };
        var probabilities = new Option<string?>("--probabilities") { Description = "The output holding class probabilities (default: the model's monitoring.probabilities)" };
        var sample = new Option<int>("--sample") { Description = "Values of each numeric feature kept for the drift tests", DefaultValueFactory = _ => 2000 };
        var output = new Option<FileInfo?>("--out", "-o") { Description = "Where to write the profile (default: profile.json in the version's folder)" };
        var noProgress = new Option<bool>("--no-progress") { Description = "Print a line per partition instead of a live bar" };
        var command = new Command("profile", "Profile reference data through a model for drift monitoring and data-quality rules")
        {
            data, model, repository, version, format, map, label, probabilities, sample, output, noProgress,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var request = new ProfileRequest(
                parse.GetValue(data)!, parse.GetValue(model)!, parse.GetValue(repository)!.FullName, parse.GetValue(version), parse.GetValue(format), parse.GetValue(map) ?? [],
                parse.GetValue(label), parse.GetValue(probabilities), parse.GetValue(sample), parse.GetValue(output)?.FullName, !parse.GetValue(noProgress) && !Console.IsErrorRedirected);
            return await RunAsync(request, cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(ProfileRequest request, CancellationToken cancellationToken)
    {
        using var logging = LoggerFactory.Create(builder => builder.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
        var (models, loadError) = await InProcessModels.LoadAsync(request.Repository, request.Model, logging, cancellationToken);
        if (models is null)
        {
            return Fail([loadError!]);
        }

        var scratch = Directory.CreateTempSubdirectory("turbine-profile-");
        try
        {
            await using (models)
            {
                if (models.Inference.Describe(request.Model, request.Version, out var info) is { } missing)
                {
                    return Fail([missing.Message]);
                }

                var problems = new List<string>();
                var definition = Definition(request, Path.Combine(scratch.FullName, "out"), problems);
                var settings = Turbine.Monitoring.MonitoringSettings.Read(info!.Config.SourceJson, problems);
                var layout = FeatureLayout.For(info.Config, request.Probabilities ?? settings.Probabilities);
                if (request.Label is not null && !layout.Features.Any(f => f.IsPredictedClass))
                {
                    problems.Add("--label calibrates a classifier: name its probabilities output with --probabilities (or monitoring.probabilities)");
                }

                if (definition is null || problems.Count > 0)
                {
                    return Fail(problems);
                }

                var builder = new ProfileBuilder(request.Model, layout, Math.Clamp(request.Sample, 10, 1_000_000));
                var profiling = new ProfilingInference(models.Inference, layout, builder);
                var store = await JobDatabases.SqliteAsync(Path.Combine(scratch.FullName, "job.db"), TimeProvider.System, cancellationToken);
                var storage = JobStorages.ForCli();
                var (outcome, message, _) = await new Jobs.JobControl(store, storage, TimeProvider.System).SubmitAsync(definition, "profile", cancellationToken);
                if (outcome == Jobs.JobChange.Invalid)
                {
                    return Fail([message]);
                }

                var worker = new JobWorker(store, storage, profiling, TimeProvider.System, logging.CreateLogger<JobWorker>());
                var state = await BatchProgress.RunAsync(store, "profile", worker, request.ShowProgress, cancellationToken);
                var job = await store.GetAsync("profile", CancellationToken.None);
                if (state != Jobs.JobState.Succeeded)
                {
                    return Fail([$"the reference data could not be scored: {job?.Reason ?? state?.ToString() ?? "stopped"}"]);
                }

                if (request.Label is { } column)
                {
                    Calibrate(builder, layout, Path.Combine(scratch.FullName, "out"), column);
                }

                var profile = builder.Build(DateTimeOffset.UtcNow);
                var path = request.Output ?? Path.Combine(request.Repository, request.Model, info.Version, ReferenceProfile.FileName);
                ProfileJson.Save(path, profile);
                Console.WriteLine($"profiled {profile.Rows} rows of '{request.Model}' version {info.Version}: {profile.Features.Count} features{(job!.Progress.Errors > 0 ? $", {job.Progress.Errors} rows refused" : string.Empty)}{(profile.Calibration is { } calibration ? $", reference accuracy {calibration.Accuracy.ToString("F4", CultureInfo.InvariantCulture)}" : string.Empty)}");
                foreach (var skipped in layout.Skipped)
                {
                    Console.WriteLine($"  not profiled: {skipped}");
                }

                Console.WriteLine($"wrote {path}");
                return 0;
            }
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    private static JobDefinition? Definition(ProfileRequest request, string output, List<string> problems)
    {
        DataFormat inputFormat;
        if (request.Format is { } given)
        {
            if (!DataFormats.TryParse(given, out inputFormat) || inputFormat == DataFormat.KServe)
            {
                problems.Add($"--format must be csv, jsonl or parquet, got '{given}'");
                return null;
            }
        }
        else if (DataFormats.FromPath(request.Data) is { } implied and not DataFormat.KServe)
        {
            inputFormat = implied;
        }
        else
        {
            problems.Add("the data's name does not say its format: give --format csv, jsonl or parquet");
            return null;
        }

        var mappings = new List<InputMapping>();
        foreach (var map in request.Maps)
        {
            var split = map.Split('=', 2);
            if (split.Length != 2 || split[0].Length == 0 || split[1].Length == 0)
            {
                problems.Add($"--map takes INPUT=COLUMN[,COLUMN...], got '{map}'");
                continue;
            }

            mappings.Add(new InputMapping(split[0], split[1].Split(',')));
        }

        // Rows that do not map are counted, not fatal: a profile describes the data the model can take.
        var definition = new JobDefinition(
            request.Model, request.Version, new DataLocation(request.Data, inputFormat), new DataLocation(output, DataFormat.JsonLines), mappings,
            request.Label is { } label ? [label] : [], [], JobOptions.Default with { MaxErrorPercent = 100 });
        problems.AddRange(JobDefinitionRules.Check(definition));
        return problems.Count == 0 ? definition : null;
    }

    /// <summary>Reads the job's answers (the label column, then the outputs) and adds each row's confidence, prediction and label.</summary>
    private static void Calibrate(ProfileBuilder builder, FeatureLayout layout, string output, string column)
    {
        var probabilitiesOutput = layout.Features.First(f => f.IsPredictedClass).Tensor;
        foreach (var file in Directory.EnumerateFiles(output, "part-*.jsonl"))
        {
            foreach (var line in File.ReadLines(file))
            {
                using var row = JsonDocument.Parse(line);
                if (!row.RootElement.TryGetProperty(column, out var label) || !row.RootElement.TryGetProperty(probabilitiesOutput, out var probabilities) || probabilities.ValueKind != JsonValueKind.Array)
                {
                    continue;
                }

                var values = probabilities.EnumerateArray().Select(p => p.GetDouble()).ToArray();
                var best = Array.IndexOf(values, values.Max());
                var truth = label.ValueKind == JsonValueKind.Number ? label.GetDouble().ToString("R", CultureInfo.InvariantCulture) : label.GetString();
                if (truth is not null && values.Length > 0)
                {
                    builder.AddLabelled(values[best], best.ToString(CultureInfo.InvariantCulture), truth);
                }
            }
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

    private sealed record ProfileRequest(
        string Data, string Model, string Repository, string? Version, string? Format, string[] Maps, string? Label, string? Probabilities, int Sample, string? Output, bool ShowProgress);

    /// <summary>The job's inference, with every answered request's inputs and outputs added to the profile (one at a time: the builder is not thread-safe).</summary>
    private sealed class ProfilingInference(IJobInference inner, FeatureLayout layout, ProfileBuilder builder) : IJobInference
    {
        private readonly Lock _gate = new();

        public InferenceError? Describe(string model, string? version, out ModelVersionInfo? info) => inner.Describe(model, version, out info);

        public async ValueTask<InferenceResult> InferAsync(InferenceRequest request, CancellationToken cancellationToken)
        {
            var result = await inner.InferAsync(request, cancellationToken);
            if (result.Response is { } response && FeatureTable.Read(layout, request.Inputs, response.Outputs) is { } table)
            {
                lock (_gate)
                {
                    builder.Add(table);
                }
            }

            return result;
        }
    }
}
