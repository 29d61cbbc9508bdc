using System.Text.Json;

namespace Turbine.Jobs.Definition;

/// <summary>
/// A job definition as JSON (the REST body, <c>turbine batch --definition</c>, and how the job store keeps it). Reading
/// collects every problem before it gives up, as model configs do; paths are checked by whoever runs the job (a
/// server limits them to its data root).
/// </summary>
public static class JobDefinitionJson
{
    private static readonly JsonDocumentOptions Limits = new() { MaxDepth = 64 };

    /// <summary>Reads a definition; the problems found, all of them, when it is not valid.</summary>
    public static JobDefinition? Read(string json, out IReadOnlyList<string> errors)
    {
        var found = new List<string>();
        errors = found;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, Limits);
        }
        catch (JsonException e)
        {
            found.Add($"the job definition is not valid JSON: {e.Message}");
            return null;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                found.Add("the job definition must be a JSON object");
                return null;
            }

            var model = ConfigJson.String(root, "model", found);
            if (string.IsNullOrEmpty(model))
            {
                found.Add("'model' is required");
            }

            var input = Location(root, "input", null, found);
            var output = Location(root, "output", input?.Format is DataFormat.KServe ? DataFormat.KServe : input?.Format, found);
            var definition = new JobDefinition(
                model ?? string.Empty,
                VersionOf(root, found),
                input ?? new DataLocation(string.Empty, DataFormat.Csv),
                output ?? new DataLocation(string.Empty, DataFormat.Csv),
                Mappings(root, found),
                Names(root, "keys", found),
                Names(root, "outputs", found),
                Options(root, found));
            found.AddRange(JobDefinitionRules.Check(definition));
            return found.Count == 0 ? definition : null;
        }
    }

    /// <summary>Writes <paramref name="definition"/> in the form <see cref="Read"/> takes, with the job's <paramref name="id"/> when given (as the REST API takes it).</summary>
    public static string Write(JobDefinition definition, string? id = null)
    {
        ArgumentNullException.ThrowIfNull(definition);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Output.OutputJson.Indented))
        {
            writer.WriteStartObject();
            if (id is not null)
            {
                writer.WriteString("id", id);
            }

            writer.WriteString("model", definition.Model);
            if (definition.Version is { } version)
            {
                writer.WriteString("version", version);
            }

            WriteLocation(writer, "input", definition.Input);
            WriteLocation(writer, "output", definition.Output);
            writer.WriteStartObject("inputs");
            foreach (var mapping in definition.Inputs)
            {
                writer.WriteStartArray(mapping.Input);
                foreach (var column in mapping.Columns)
                {
                    writer.WriteStringValue(column);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
            WriteNames(writer, "keys", definition.Keys);
            WriteNames(writer, "outputs", definition.Outputs);
            var options = definition.Options;
            writer.WriteStartObject("options");
            writer.WriteNumber("partition_rows", options.PartitionRows);
            writer.WriteNumber("rows_per_request", options.RowsPerRequest);
            writer.WriteNumber("max_rows_in_flight", options.MaxRowsInFlight);
            writer.WriteNumber("retries", options.Retries);
            writer.WriteNumber("retry_backoff_ms", (long)options.RetryBackoff.TotalMilliseconds);
            writer.WriteNumber("max_error_percent", options.MaxErrorPercent);
            writer.WriteNumber("priority", options.Priority);
            writer.WriteNumber("lease_seconds", (long)options.Lease.TotalSeconds);
            writer.WriteNumber("max_cell_bytes", options.MaxCellBytes);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string? VersionOf(JsonElement root, List<string> errors)
    {
        if (!root.TryGetProperty("version", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        // A number is as good as its digits: "version": 2 and "version": "2" name the same version.
        return value.ValueKind == JsonValueKind.Number ? value.GetRawText() : ConfigJson.String(root, "version", errors);
    }

    private static DataLocation? Location(JsonElement root, string property, DataFormat? defaultFormat, List<string> errors)
    {
        if (!root.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            errors.Add($"'{property}' is required");
            return null;
        }

        string? uri;
        string? formatName = null;
        if (value.ValueKind == JsonValueKind.String)
        {
            uri = value.GetString();
        }
        else if (value.ValueKind == JsonValueKind.Object)
        {
            uri = ConfigJson.String(value, "uri", errors, property);
            formatName = ConfigJson.String(value, "format", errors, property);
        }
        else
        {
            errors.Add($"'{property}' must be a path or an object with 'uri' and 'format'");
            return null;
        }

        if (string.IsNullOrWhiteSpace(uri))
        {
            errors.Add($"'{property}.uri' is required");
            return null;
        }

        DataFormat format;
        if (formatName is not null)
        {
            if (!DataFormats.TryParse(formatName, out format))
            {
                errors.Add($"'{property}.format' must be csv, jsonl, parquet or kserve, got '{ClientText.Quote(formatName)}'");
                return null;
            }
        }
        else if (DataFormats.FromPath(uri) is { } implied)
        {
            format = implied;
        }
        else if (defaultFormat is { } fallback)
        {
            format = fallback;
        }
        else
        {
            errors.Add($"'{property}': give a 'format' (csv, jsonl, parquet or kserve); the name '{ClientText.Quote(uri)}' does not say");
            return null;
        }

        return new DataLocation(uri, format);
    }

    private static List<InputMapping> Mappings(JsonElement root, List<string> errors)
    {
        var mappings = new List<InputMapping>();
        if (!root.TryGetProperty("inputs", out var inputs) || inputs.ValueKind == JsonValueKind.Null)
        {
            return mappings;
        }

        if (inputs.ValueKind != JsonValueKind.Object)
        {
            errors.Add("'inputs' must be an object: model input name to a column or a list of columns");
            return mappings;
        }

        foreach (var input in inputs.EnumerateObject())
        {
            if (input.Value.ValueKind == JsonValueKind.String)
            {
                mappings.Add(new InputMapping(input.Name, [input.Value.GetString()!]));
            }
            else if (input.Value.ValueKind == JsonValueKind.Array && input.Value.EnumerateArray().All(c => c.ValueKind == JsonValueKind.String))
            {
                mappings.Add(new InputMapping(input.Name, [.. input.Value.EnumerateArray().Select(c => c.GetString()!)]));
            }
            else
            {
                errors.Add($"'inputs.{ClientText.Quote(input.Name)}' must be a column name or a list of column names");
            }
        }

        return mappings;
    }

    private static List<string> Names(JsonElement root, string property, List<string> errors)
    {
        if (!root.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (value.ValueKind != JsonValueKind.Array || !value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String))
        {
            errors.Add($"'{property}' must be a list of names");
            return [];
        }

        return [.. value.EnumerateArray().Select(v => v.GetString()!)];
    }

    private static JobOptions Options(JsonElement root, List<string> errors)
    {
        if (!root.TryGetProperty("options", out var options) || options.ValueKind == JsonValueKind.Null)
        {
            return JobOptions.Default;
        }

        if (options.ValueKind != JsonValueKind.Object)
        {
            errors.Add("'options' must be an object");
            return JobOptions.Default;
        }

        const string Where = "options";
        var defaults = JobOptions.Default;
        var backoff = ConfigJson.Long(options, "retry_backoff_ms", errors, Where);
        var lease = ConfigJson.Long(options, "lease_seconds", errors, Where);
        return new JobOptions
        {
            PartitionRows = ConfigJson.Int(options, "partition_rows", errors, Where) ?? defaults.PartitionRows,
            RowsPerRequest = ConfigJson.Int(options, "rows_per_request", errors, Where) ?? defaults.RowsPerRequest,
            MaxRowsInFlight = ConfigJson.Int(options, "max_rows_in_flight", errors, Where) ?? defaults.MaxRowsInFlight,
            Retries = ConfigJson.Int(options, "retries", errors, Where) ?? defaults.Retries,
            RetryBackoff = backoff is { } ms and >= 0 and <= 3_600_000 ? TimeSpan.FromMilliseconds(ms) : defaults.RetryBackoff,
            MaxErrorPercent = ConfigJson.Double(options, "max_error_percent", errors, Where) ?? defaults.MaxErrorPercent,
            Priority = ConfigJson.Int(options, "priority", errors, Where) ?? defaults.Priority,
            Lease = lease is { } seconds and > 0 and <= 86_400 ? TimeSpan.FromSeconds(seconds) : Invalid(lease, "lease_seconds", "1 to 86400", defaults.Lease, errors),
            MaxCellBytes = ConfigJson.Int(options, "max_cell_bytes", errors, Where) ?? defaults.MaxCellBytes,
        };
    }

    private static TimeSpan Invalid(long? given, string property, string range, TimeSpan fallback, List<string> errors)
    {
        if (given is not null)
        {
            errors.Add($"'options.{property}' must be {range}, got {given}");
        }

        return fallback;
    }

    private static void WriteLocation(Utf8JsonWriter writer, string property, DataLocation location)
    {
        writer.WriteStartObject(property);
        writer.WriteString("uri", location.Uri);
        writer.WriteString("format", location.Format.Name());
        writer.WriteEndObject();
    }

    private static void WriteNames(Utf8JsonWriter writer, string property, IReadOnlyList<string> names)
    {
        writer.WriteStartArray(property);
        foreach (var name in names)
        {
            writer.WriteStringValue(name);
        }

        writer.WriteEndArray();
    }
}
