using System.CommandLine;
using Turbine.Jobs.Definition;

namespace Turbine.Cli.Batch;

/// <summary>The flags that describe a job on the command line, read into the same definition the REST API takes.</summary>
internal sealed class DefinitionOptions
{
    private readonly Option<string> _model = new("--model", "-m") { Description = "The model to score with", Required = true };
    private readonly Option<string?> _version = new("--model-version") { Description = "A version number or label (default: the model's default version)" };
    private readonly Option<string> _output = new("--out", "-o") { Description = "The output folder: part files, errors/ and _SUMMARY.json", Required = true };
    private readonly Option<string?> _format = new("--format") { Description = "The input format when its name does not say: csv, jsonl, parquet or kserve" };
    private readonly Option<string?> _outputFormat = new("--out-format") { Description = "The output format (default: the input's)" };
    private readonly Option<string[]> _map = new("--map") { Description = "INPUT=COLUMN[,COLUMN...]: the columns that feed a model input (default: the column named like the input)", AllowMultipleArgumentsPerToken = true };
    private readonly Option<string?> _keys = new("--keys") { Description = "Comma-separated input columns copied into every output row (default: _row, the row number)" };
    private readonly Option<string?> _outputs = new("--outputs") { Description = "Comma-separated model outputs to write (default: all)" };
    private readonly Option<int?> _partitionRows = new("--partition-rows") { Description = "Rows per partition (CSV, JSON lines; Parquet is cut at row groups)" };
    private readonly Option<int?> _rowsPerRequest = new("--rows-per-request") { Description = "Rows per request (default: the model's max_batch_size)" };
    private readonly Option<int?> _inFlight = new("--max-rows-in-flight") { Description = "Rows in requests at once (default: four requests' worth)" };
    private readonly Option<double?> _errorPercent = new("--max-error-percent") { Description = "Fail the job past this share of row errors (default 5)" };
    private readonly Option<int?> _lease = new("--lease-seconds") { Description = "How long a partition stays with a silent worker before another takes it (default 60)" };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _model, _version, _output, _format, _outputFormat, _map, _keys, _outputs, _partitionRows, _rowsPerRequest, _inFlight, _errorPercent, _lease })
        {
            command.Options.Add(option);
        }
    }

    /// <summary>The definition the flags describe, checked by the same rules as the API's; null with the problems when they are not valid.</summary>
    public JobDefinition? Read(ParseResult parse, string input, out IReadOnlyList<string> problems)
    {
        var errors = new List<string>();
        problems = errors;
        var inputFormat = Format(parse.GetValue(_format), input, null, "--format", errors);
        var outputFormat = Format(parse.GetValue(_outputFormat), null, inputFormat, "--out-format", errors);
        var mappings = new List<InputMapping>();
        foreach (var map in parse.GetValue(_map) ?? [])
        {
            var split = map.Split('=', 2);
            if (split.Length != 2 || split[0].Length == 0 || split[1].Length == 0)
            {
                errors.Add($"--map takes INPUT=COLUMN[,COLUMN...], got '{map}'");
                continue;
            }

            mappings.Add(new InputMapping(split[0], split[1].Split(',')));
        }

        var defaults = JobOptions.Default;
        var options = defaults with
        {
            PartitionRows = parse.GetValue(_partitionRows) ?? defaults.PartitionRows,
            RowsPerRequest = parse.GetValue(_rowsPerRequest) ?? defaults.RowsPerRequest,
            MaxRowsInFlight = parse.GetValue(_inFlight) ?? defaults.MaxRowsInFlight,
            MaxErrorPercent = parse.GetValue(_errorPercent) ?? defaults.MaxErrorPercent,
            Lease = parse.GetValue(_lease) is { } seconds ? TimeSpan.FromSeconds(Math.Clamp(seconds, 1, 86_400)) : defaults.Lease,
        };
        if (inputFormat is null || outputFormat is null)
        {
            return null;
        }

        var definition = new JobDefinition(
            parse.GetValue(_model)!,
            parse.GetValue(_version),
            new DataLocation(input, inputFormat.Value),
            new DataLocation(parse.GetValue(_output)!, outputFormat.Value),
            mappings,
            List(parse.GetValue(_keys)),
            List(parse.GetValue(_outputs)),
            options);
        errors.AddRange(JobDefinitionRules.Check(definition));
        return errors.Count == 0 ? definition : null;
    }

    private static DataFormat? Format(string? given, string? path, DataFormat? fallback, string flag, List<string> errors)
    {
        if (given is not null)
        {
            if (DataFormats.TryParse(given, out var format))
            {
                return format;
            }

            errors.Add($"{flag} must be csv, jsonl, parquet or kserve, got '{given}'");
            return null;
        }

        if (path is not null && DataFormats.FromPath(path) is { } implied)
        {
            return implied;
        }

        if (fallback is { } value)
        {
            return value;
        }

        errors.Add($"the input's name does not say its format: give {flag}");
        return null;
    }

    private static List<string> List(string? commaSeparated) =>
        commaSeparated is null ? [] : [.. commaSeparated.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
}
