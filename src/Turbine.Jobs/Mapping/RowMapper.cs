using System.Buffers;
using Turbine.Jobs.Definition;
using Turbine.Jobs.Formats;

namespace Turbine.Jobs.Mapping;

/// <summary>
/// Maps input rows to model inputs, compiled once per job against the model's configuration and the input's columns.
/// Shape rules: a model input whose row shape is fixed takes exactly that many elements, from one scalar column, one
/// list column, or several columns joined in order; one dimension may be variable (-1), and the row's element count
/// fixes it. A model without a batch dimension takes one row per request, the row filling the whole tensor.
/// </summary>
internal sealed class RowMapper
{
    private readonly InputPlan[] _inputs;
    private readonly int[] _keys;
    private readonly bool _batched;
    private readonly bool _tensorCells;
    private readonly string[] _columns;

    private RowMapper(InputPlan[] inputs, int[] keys, bool batched, bool tensorCells, string[] columns)
    {
        _inputs = inputs;
        _columns = columns;
        _keys = keys;
        _batched = batched;
        _tensorCells = tensorCells;
    }

    /// <summary>The model's inputs in the order <see cref="MappedRow.Inputs"/> holds them.</summary>
    public IReadOnlyList<(string Name, DataType Type)> Inputs => field ??= [.. _inputs.Select(i => (i.Name, i.Type))];

    /// <summary>The input columns the mapping reads: the inputs' and the keys'.</summary>
    public IReadOnlySet<string> ColumnsRead => field ??= new HashSet<string>([.. _inputs.SelectMany(i => i.Columns).Concat(_keys).Select(c => _columns[c])], StringComparer.Ordinal);

    /// <summary>Whether requests carry a batch dimension.</summary>
    public bool Batched => _batched;

    /// <summary>Compiles the mapping; every problem found, when it cannot be.</summary>
    public static RowMapper? Create(JobDefinition definition, IReadOnlyList<string> keyColumns, IReadOnlyList<string> columns, ModelConfig model, int maxCellBytes, List<string> errors)
    {
        var columnIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < columns.Count; i++)
        {
            columnIndex.TryAdd(columns[i], i);
        }

        var tensorCells = definition.Input.Format == DataFormat.KServe;
        var mappings = definition.Inputs.Count > 0 ? definition.Inputs : [.. model.Inputs.Select(i => new InputMapping(i.Name, [i.Name]))];
        foreach (var mapping in mappings.Where(m => !model.Inputs.Any(i => i.Name == m.Input)))
        {
            errors.Add($"'inputs' maps '{ClientText.Quote(mapping.Input)}', which is not an input of model '{model.Name}' (its inputs: {string.Join(", ", model.Inputs.Select(i => i.Name))})");
        }

        var inputs = new List<InputPlan>();
        foreach (var input in model.Inputs)
        {
            var mapping = mappings.FirstOrDefault(m => m.Input == input.Name);
            if (input.Optional && (mapping is null || (definition.Inputs.Count == 0 && !columnIndex.ContainsKey(input.Name))))
            {
                continue; // an optional input no column feeds: requests leave it out
            }

            if (mapping is null)
            {
                errors.Add($"model input '{input.Name}' has no column: map it in 'inputs'");
                continue;
            }

            var sources = new int[mapping.Columns.Count];
            for (var c = 0; c < sources.Length; c++)
            {
                if (!columnIndex.TryGetValue(mapping.Columns[c], out sources[c]))
                {
                    errors.Add($"column '{ClientText.Quote(mapping.Columns[c])}' for input '{input.Name}' is not in the input (its columns: {Listing(columns)})");
                }
            }

            var dims = input.Dims;
            if (dims.Count(d => d < 0) > 1 && !tensorCells)
            {
                errors.Add($"input '{input.Name}' has shape [{string.Join(",", dims)}] with several variable dimensions: rows cannot say their shape; give it a fixed shape in the model's config");
            }

            inputs.Add(new InputPlan(input.Name, input.DataType, dims, sources, new ElementEncoder(input.DataType, maxCellBytes)));
        }

        var keys = new int[keyColumns.Count];
        for (var k = 0; k < keys.Length; k++)
        {
            if (!columnIndex.TryGetValue(keyColumns[k], out keys[k]))
            {
                errors.Add($"key column '{ClientText.Quote(keyColumns[k])}' is not in the input (its columns: {Listing(columns)})");
            }
        }

        return errors.Count == 0 ? new RowMapper([.. inputs], keys, model.MaxBatchSize > 0, tensorCells, [.. columns]) : null;
    }

    /// <summary>Maps one row; a row that does not fit comes back with its reason.</summary>
    public MappedRow Map(SourceRow row, ArrayBufferWriter<byte> scratch)
    {
        var keys = new object?[_keys.Length];
        if (row.Cells is { } cells)
        {
            for (var k = 0; k < keys.Length; k++)
            {
                keys[k] = cells[_keys[k]];
            }
        }

        if (row.Error is { } readError)
        {
            return Failed(row.Number, keys, readError);
        }

        var data = new byte[_inputs.Length][];
        var shapes = new long[_inputs.Length][];
        var batch = 1;
        for (var i = 0; i < _inputs.Length; i++)
        {
            var input = _inputs[i];
            scratch.Clear();
            var count = 0L;
            TensorCell? tensor = null;
            foreach (var column in input.Columns)
            {
                var cell = row.Cells![column];
                tensor ??= cell as TensorCell;
                var added = input.Encoder.Append(cell, scratch, expectList: input.Columns.Length == 1, out var error);
                if (added < 0)
                {
                    return Failed(row.Number, keys, $"input '{input.Name}' from column '{ClientText.Quote(_columns[column])}': {(_tensorCells && cell is null ? "the request has no such input" : error)}");
                }

                count += added;
            }

            var shape = _tensorCells ? TensorShape(input, tensor, out batch, out var problem) : RowShape(input, count, out problem);
            if (shape is null)
            {
                return Failed(row.Number, keys, $"input '{input.Name}': {problem}");
            }

            if (tensor is not null && tensor.DataType != input.Type)
            {
                return Failed(row.Number, keys, $"input '{input.Name}': the request says {tensor.DataType.ToWireName()}, the model takes {input.Type.ToWireName()}");
            }

            data[i] = scratch.WrittenSpan.ToArray();
            shapes[i] = shape;
        }

        return new MappedRow(row.Number, keys, data, shapes, batch, null);
    }

    private static MappedRow Failed(long number, object?[] keys, string error) => new(number, keys, null, null, 0, error);

    /// <summary>The shape a tabular row gives an input: the model's dims with a variable one fixed by the element count.</summary>
    private static long[]? RowShape(InputPlan input, long count, out string? problem)
    {
        problem = null;
        var shape = input.Dims.ToArray();
        var variable = Array.FindIndex(shape, d => d < 0);
        var fixedCount = 1L;
        foreach (var d in shape)
        {
            fixedCount *= d < 0 ? 1 : d;
        }

        if (variable >= 0 && fixedCount > 0 && count % fixedCount == 0 && count > 0)
        {
            shape[variable] = count / fixedCount;
            return shape;
        }

        if (variable < 0 && count == fixedCount)
        {
            return shape;
        }

        problem = $"the row gives {count} values, the input's shape [{string.Join(",", input.Dims)}] takes {(variable < 0 ? fixedCount.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"a multiple of {fixedCount}")}";
        return null;
    }

    /// <summary>The shape of a KServe request's input without its batch dimension, checked against the model's dims.</summary>
    private long[]? TensorShape(InputPlan input, TensorCell? tensor, out int batch, out string? problem)
    {
        batch = 1;
        problem = null;
        if (tensor is null)
        {
            problem = "the request has no such input";
            return null;
        }

        var shape = tensor.Shape;
        if (_batched)
        {
            if (shape.Length == 0 || shape[0] is < 1 or > int.MaxValue)
            {
                problem = "the request's shape needs a batch dimension of at least 1";
                return null;
            }

            batch = (int)shape[0];
            shape = shape[1..];
        }

        var fits = shape.Length == input.Dims.Length;
        for (var d = 0; fits && d < shape.Length; d++)
        {
            fits = input.Dims[d] < 0 || input.Dims[d] == shape[d];
        }

        if (!fits)
        {
            problem = $"the request's shape [{string.Join(",", tensor.Shape)}] does not fit the model's [{(_batched ? "-1," : string.Empty)}{string.Join(",", input.Dims)}]";
            return null;
        }

        return shape;
    }

    private static string Listing(IReadOnlyList<string> columns) =>
        columns.Count == 0 ? "none" : string.Join(", ", columns.Take(20).Select(c => ClientText.Quote(c, 40))) + (columns.Count > 20 ? ", ..." : string.Empty);

    private sealed record InputPlan(string Name, DataType Type, long[] Dims, int[] Columns, ElementEncoder Encoder);
}
