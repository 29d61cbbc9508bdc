using Turbine.Jobs.Definition;
using Turbine.Jobs.Formats;
using Turbine.Jobs.Mapping;
using Turbine.Jobs.Storage;

namespace Turbine.Jobs.Execution;

/// <summary>What a worker needs to score any partition of one job, worked out once from its record and the model.</summary>
internal sealed record JobContext(
    string JobId,
    JobDefinition Definition,
    IReadOnlyList<string> Keys,
    IReadOnlyList<string> Columns,
    RowSource Source,
    RowMapper Mapper,
    IReadOnlyList<string> Outputs,
    int RowsPerRequest,
    int MaxRowsInFlight)
{
    /// <summary>
    /// Compiles the job against the model as it is served now; the problems, all of them, when the job cannot run
    /// (the model is gone, a column or output is missing, a shape cannot be mapped).
    /// </summary>
    public static JobContext? Create(string jobId, JobDefinition definition, IReadOnlyList<string> columns, IJobInference inference, List<string> errors)
    {
        var missing = inference.Describe(definition.Model, definition.Version, out var info);
        if (missing is not null || info is null)
        {
            errors.Add($"model '{ClientText.Quote(definition.Model)}'{(definition.Version is { } v ? $" version '{ClientText.Quote(v)}'" : string.Empty)}: {missing?.Message ?? "not found"}");
            return null;
        }

        var config = info.Config;
        foreach (var output in definition.Outputs.Where(o => !config.Outputs.Any(m => m.Name == o)))
        {
            errors.Add($"output '{ClientText.Quote(output)}' is not an output of model '{config.Name}' (its outputs: {string.Join(", ", config.Outputs.Select(o => o.Name))})");
        }

        // A KServe line's answer carries the request's id, as a server's would.
        IReadOnlyList<string> keys = definition.Keys.Count == 0 && definition.Input.Format == DataFormat.KServe ? [KServeLinesSource.IdColumn] : definition.Keys;
        var mapper = RowMapper.Create(definition, keys, columns, config, definition.Options.MaxCellBytes, errors);
        if (mapper is null || errors.Count > 0)
        {
            return null;
        }

        var options = definition.Options;
        var rowsPerRequest = config.MaxBatchSize <= 0 ? 1 : options.RowsPerRequest > 0 ? Math.Min(options.RowsPerRequest, config.MaxBatchSize) : config.MaxBatchSize;
        var inFlight = options.MaxRowsInFlight > 0 ? Math.Max(options.MaxRowsInFlight, rowsPerRequest) : rowsPerRequest * 4;
        var outputs = definition.Outputs.Count > 0 ? definition.Outputs : [.. config.Outputs.Select(o => o.Name)];
        return new JobContext(jobId, definition, keys, columns, RowSource.For(definition.Input.Format), mapper, outputs, rowsPerRequest, inFlight);
    }

    /// <summary>The part file's name for partition <paramref name="index"/>.</summary>
    public string PartName(int index) => $"part-{index:D5}{Definition.Output.Format.Extension()}";

    /// <summary>The dead-letter file's name for partition <paramref name="index"/>.</summary>
    public static string DeadLetterName(int index) => $"errors/part-{index:D5}.jsonl";
}
