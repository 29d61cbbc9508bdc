using System.Runtime.CompilerServices;
using System.Text.Json;
using Turbine.Jobs.Storage;
using Turbine.Jobs.Store;

namespace Turbine.Jobs.Formats;

/// <summary>
/// One JSON object per line. The columns are the keys of the first lines, in the order they first appear; a key a
/// later line lacks is a null cell, and a line that is not a JSON object is a row error.
/// </summary>
internal sealed class JsonLinesSource : RowSource
{
    public override async Task<JobPlan> PlanAsync(IJobStorage storage, string uri, int partitionRows, IReadOnlySet<string> usedColumns, CancellationToken cancellationToken)
    {
        var columns = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var partitions = await LinePlanner.PlanAsync(storage, uri, partitionRows, line =>
        {
            try
            {
                using var document = JsonDocument.Parse(line, JsonCells.Limits);
                if (document.RootElement.ValueKind == JsonValueKind.Object)
                {
                    foreach (var property in document.RootElement.EnumerateObject())
                    {
                        if (seen.Add(property.Name))
                        {
                            columns.Add(property.Name);
                        }
                    }
                }
            }
            catch (JsonException)
            {
                // A bad line is that row's error when it is read; the columns come from the good ones.
            }
        }, cancellationToken);
        return new JobPlan(columns, partitions);
    }

    public override async IAsyncEnumerable<SourceRow> ReadAsync(IJobStorage storage, string uri, IReadOnlyList<string> columns, IReadOnlySet<string> usedColumns, PartitionSpan span, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < columns.Count; i++)
        {
            index[columns[i]] = i;
        }

        await foreach (var (number, line) in LinePlanner.ReadAsync(storage, uri, span, cancellationToken))
        {
            yield return Parse(number, line, index, columns.Count);
        }
    }

    private static SourceRow Parse(long number, string line, Dictionary<string, int> index, int width)
    {
        try
        {
            using var document = JsonDocument.Parse(line, JsonCells.Limits);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return SourceRow.Failed(number, "the line is not a JSON object");
            }

            var cells = new object?[width];
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (index.TryGetValue(property.Name, out var column))
                {
                    cells[column] = JsonCells.From(property.Value);
                }
            }

            return new SourceRow(number, cells, null);
        }
        catch (JsonException e)
        {
            return SourceRow.Failed(number, $"the line is not valid JSON: {e.Message}");
        }
    }
}
