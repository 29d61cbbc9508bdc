namespace Turbine.Jobs.Definition;

/// <summary>The checks a definition passes before it is stored, whatever it was written in: every problem, not the first.</summary>
public static class JobDefinitionRules
{
    /// <summary>The most rows one partition may hold.</summary>
    public const int MaxPartitionRows = 10_000_000;

    /// <summary>The problems of <paramref name="definition"/>; empty when it is valid.</summary>
    public static IReadOnlyList<string> Check(JobDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var errors = new List<string>();
        var options = definition.Options;
        if (options.PartitionRows is < 1 or > MaxPartitionRows)
        {
            errors.Add($"'options.partition_rows' must be 1 to {MaxPartitionRows}, got {options.PartitionRows}");
        }

        if (options.RowsPerRequest < 0)
        {
            errors.Add($"'options.rows_per_request' must be >= 0 (0: the model's max_batch_size), got {options.RowsPerRequest}");
        }

        if (options.MaxRowsInFlight < 0)
        {
            errors.Add($"'options.max_rows_in_flight' must be >= 0 (0: four requests' worth), got {options.MaxRowsInFlight}");
        }

        if (options.Retries is < 0 or > 100)
        {
            errors.Add($"'options.retries' must be 0 to 100, got {options.Retries}");
        }

        if (options.MaxErrorPercent is < 0 or > 100 || double.IsNaN(options.MaxErrorPercent))
        {
            errors.Add($"'options.max_error_percent' must be 0 to 100, got {options.MaxErrorPercent}");
        }

        if (options.MaxCellBytes < 1)
        {
            errors.Add($"'options.max_cell_bytes' must be >= 1, got {options.MaxCellBytes}");
        }

        if (definition.Output.Format == DataFormat.KServe && definition.Input.Format != DataFormat.KServe)
        {
            errors.Add("'output.format' kserve writes KServe v2 responses, one per request line: it needs an input of KServe v2 request lines");
        }

        if (definition.Input.Format == DataFormat.KServe && definition.Inputs.Count > 0)
        {
            errors.Add("'inputs' maps columns to model inputs: KServe v2 request lines name their inputs themselves");
        }

        var mapped = new HashSet<string>(StringComparer.Ordinal);
        foreach (var mapping in definition.Inputs)
        {
            if (!mapped.Add(mapping.Input))
            {
                errors.Add($"'inputs' maps model input '{ClientText.Quote(mapping.Input)}' twice");
            }

            if (mapping.Columns.Count == 0)
            {
                errors.Add($"'inputs.{ClientText.Quote(mapping.Input)}' names no column");
            }
        }

        if (definition.Keys.Distinct(StringComparer.Ordinal).Count() != definition.Keys.Count)
        {
            errors.Add("'keys' names a column twice");
        }

        return errors;
    }
}
