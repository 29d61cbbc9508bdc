using System.Runtime.CompilerServices;
using System.Text.Json;
using Turbine.Jobs.Storage;
using Turbine.Jobs.Store;

namespace Turbine.Jobs.Formats;

/// <summary>
/// One KServe v2 inference request per line (<c>{"id", "inputs": [{"name", "datatype", "shape", "data"}]}</c>, data
/// flat or nested). Column 0 is the request's <c>id</c>; the others are the inputs the first lines name, each cell a
/// <see cref="TensorCell"/>. A line is one row of the job, whatever its batch: its answer is one response line.
/// </summary>
internal sealed class KServeLinesSource : RowSource
{
    /// <summary>The column holding each request's id.</summary>
    public const string IdColumn = "id";

    public override async Task<JobPlan> PlanAsync(IJobStorage storage, string uri, int partitionRows, IReadOnlySet<string> usedColumns, CancellationToken cancellationToken)
    {
        var columns = new List<string> { IdColumn };
        var partitions = await LinePlanner.PlanAsync(storage, uri, partitionRows, line =>
        {
            try
            {
                using var document = JsonDocument.Parse(line, JsonCells.Limits);
                if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("inputs", out var inputs) && inputs.ValueKind == JsonValueKind.Array)
                {
                    foreach (var input in inputs.EnumerateArray())
                    {
                        if (input.ValueKind == JsonValueKind.Object && input.TryGetProperty("name", out var name) && name.GetString() is { } text && !columns.Contains(text))
                        {
                            columns.Add(text);
                        }
                    }
                }
            }
            catch (JsonException)
            {
                // That line's error is reported when it is read.
            }
        }, cancellationToken);
        return new JobPlan(columns, partitions);
    }

    public override async IAsyncEnumerable<SourceRow> ReadAsync(IJobStorage storage, string uri, IReadOnlyList<string> columns, IReadOnlySet<string> usedColumns, PartitionSpan span, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var (number, line) in LinePlanner.ReadAsync(storage, uri, span, cancellationToken))
        {
            SourceRow row;
            try
            {
                row = Parse(number, line, columns);
            }
            catch (JsonException e)
            {
                row = SourceRow.Failed(number, $"the line is not valid JSON: {e.Message}");
            }

            yield return row;
        }
    }

    private static SourceRow Parse(long number, string line, IReadOnlyList<string> columns)
    {
        using var document = JsonDocument.Parse(line, JsonCells.Limits);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("inputs", out var inputs) || inputs.ValueKind != JsonValueKind.Array)
        {
            return SourceRow.Failed(number, "the line is not a KServe v2 request: it needs an 'inputs' list");
        }

        var cells = new object?[columns.Count];
        if (root.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String)
        {
            cells[0] = id.GetString();
        }

        foreach (var input in inputs.EnumerateArray())
        {
            if (input.ValueKind != JsonValueKind.Object || !input.TryGetProperty("name", out var nameElement) || nameElement.GetString() is not { } name)
            {
                return SourceRow.Failed(number, "every input needs a 'name'");
            }

            var column = IndexOf(columns, name);
            if (column < 0)
            {
                continue; // an input the model's mapping never reads
            }

            if (!input.TryGetProperty("datatype", out var datatype) || !DataTypes.TryParse(datatype.GetString(), out var type) ||
                !input.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array || !input.TryGetProperty("data", out var data))
            {
                return SourceRow.Failed(number, $"input '{ClientText.Quote(name)}' needs a known 'datatype', a 'shape' and 'data'");
            }

            var shape = new long[shapeElement.GetArrayLength()];
            var k = 0;
            foreach (var dim in shapeElement.EnumerateArray())
            {
                if (!dim.TryGetInt64(out shape[k]) || shape[k++] < 0)
                {
                    return SourceRow.Failed(number, $"input '{ClientText.Quote(name)}': the shape must hold non-negative integers");
                }
            }

            var values = new List<object?>();
            Flatten(data, values);
            if (!Shapes.TryGetElementCount(shape, out var count) || count != values.Count || shape.Length == 0)
            {
                return SourceRow.Failed(number, $"input '{ClientText.Quote(name)}': shape [{string.Join(",", shape)}] does not match its {values.Count} values");
            }

            cells[column] = new TensorCell(type, shape, values);
        }

        return new SourceRow(number, cells, null);
    }

    private static int IndexOf(IReadOnlyList<string> columns, string name)
    {
        for (var i = 1; i < columns.Count; i++)
        {
            if (string.Equals(columns[i], name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    private static void Flatten(JsonElement data, List<object?> values)
    {
        if (data.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in data.EnumerateArray())
            {
                Flatten(item, values);
            }
        }
        else
        {
            values.Add(JsonCells.From(data));
        }
    }
}
