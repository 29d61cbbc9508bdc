using Microsoft.ML;

namespace Turbine.MLNet;

/// <summary>
/// Runs an ML.NET pipeline on a batch: the request's tensors become a data view of one row per batch row, the pipeline
/// transforms it, and each asked-for output column is read row by row into a tensor.
/// </summary>
internal sealed class MlNetModelInstance(MlNetModel model) : IModelInstance
{
    public InferenceError? Run(IReadOnlyList<Tensor> inputs, IReadOnlyList<TensorConfig> outputs, List<Tensor> results)
    {
        var rows = inputs.Count > 0 && inputs[0].Shape.Length > 0 ? (int)inputs[0].Shape[0] : 0;
        var columns = new List<ColumnValues>();
        foreach (var (column, kind) in model.Inputs)
        {
            if (model.Unread.Contains(column.Name))
            {
                columns.Add(ColumnValues.Empty(kind, rows));
                continue;
            }

            var tensor = inputs.FirstOrDefault(t => t.Name == column.Name);
            if (tensor is null || tensor.Shape.Length == 0 || tensor.Shape[0] != rows)
            {
                return InferenceError.Invalid($"input '{column.Name}': expected [{rows}, ...] with the batch's rows");
            }

            columns.Add(ColumnValues.From(tensor, kind, rows));
        }

        try
        {
            var transformed = model.Transformer.Transform(new TensorDataView(model.InputSchema, columns, rows));
            var wanted = outputs.Select(o => model.Outputs.FirstOrDefault(m => m.Column.Name == o.Name)).Where(o => o.Kind is not null).ToList();
            var live = wanted.Select(o => transformed.Schema[o.Column.Name]).ToList();
            using var cursor = transformed.GetRowCursor(live);
            var collectors = wanted.Select((o, i) => ColumnCollector.Create(cursor, live[i], o.Kind)).ToList();
            while (cursor.MoveNext())
            {
                foreach (var collector in collectors)
                {
                    collector.Read();
                }
            }

            for (var i = 0; i < collectors.Count; i++)
            {
                results.Add(collectors[i].ToTensor(wanted[i].Column.Name, rows));
            }

            return null;
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException or OverflowException)
        {
            return InferenceError.Internal($"the ML.NET pipeline failed: {e.Message}");
        }
    }

    public void Dispose()
    {
    }
}
