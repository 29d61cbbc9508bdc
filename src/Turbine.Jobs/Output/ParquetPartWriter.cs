using Parquet;
using Parquet.Schema;
using Parquet.Serialization;
using Turbine.Jobs.Mapping;

namespace Turbine.Jobs.Output;

/// <summary>
/// Apache Parquet (Parquet.Net), one row group per part. A key column takes the type of its values (whole numbers,
/// numbers, booleans, else text); an output of one element per row is a typed column, a bigger one a list column of its
/// elements, flattened row-major (the shape is the model's).
/// </summary>
internal sealed class ParquetPartWriter(Stream stream, IReadOnlyList<string> keys, IReadOnlyList<string> outputs) : PartWriter
{
    private readonly List<ScoredRow> _rows = [];
    private readonly IReadOnlyList<string> _keyNames = KeyNames(keys);

    public override ValueTask WriteAsync(ScoredRow row, CancellationToken cancellationToken)
    {
        _rows.Add(row);
        return ValueTask.CompletedTask;
    }

    public override async ValueTask CompleteAsync(CancellationToken cancellationToken)
    {
        var fields = new List<Field>();
        for (var k = 0; k < _keyNames.Count; k++)
        {
            fields.Add(new DataField(_keyNames[k], KeyType(k), isNullable: true));
        }

        var scalar = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in outputs)
        {
            var sample = _rows.Count == 0 ? null : Find(_rows[0], name);
            var element = sample is null ? typeof(float) : sample.Values.GetType().GetElementType()!;
            if (sample is { Values.Length: 1 })
            {
                scalar.Add(name);
            }

            fields.Add(scalar.Contains(name) ? new DataField(name, element, isNullable: true) : new ListField(name, element));
        }

        var data = new List<IDictionary<string, object?>>(_rows.Count);
        foreach (var row in _rows)
        {
            var record = new Dictionary<string, object?>(StringComparer.Ordinal);
            var values = KeyValues(row, keys.Count);
            for (var k = 0; k < values.Length; k++)
            {
                if (KeyValue(values[k], ((DataField)fields[k]).ClrType) is { } value)
                {
                    record[_keyNames[k]] = value;
                }
            }

            foreach (var name in outputs)
            {
                if (Find(row, name) is { } output)
                {
                    record[name] = output.Values.Length == 1 && scalar.Contains(name) ? output.Values.GetValue(0)! : output.Values;
                }
            }

            data.Add(record);
        }

        await ParquetSerializer.SerializeUntypedAsync(data, new ParquetSchema(fields), stream, cancellationToken: cancellationToken);
        await FlushToDiskAsync(stream, cancellationToken);
    }

    public override ValueTask DisposeAsync() => stream.DisposeAsync();

    private Type KeyType(int key)
    {
        foreach (var row in _rows)
        {
            switch (KeyValues(row, keys.Count)[key])
            {
                case null: continue;
                case long: return typeof(long);
                case double: return typeof(double);
                case bool: return typeof(bool);
                default: return typeof(string);
            }
        }

        return typeof(string);
    }

    private static object? KeyValue(object? value, Type type) => value switch
    {
        null => null,
        long l when type == typeof(double) => (double)l,
        _ when type == typeof(string) => value as string ?? Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture),
        _ => value,
    };

    private static RowOutput? Find(ScoredRow row, string name) => row.Outputs!.FirstOrDefault(o => o.Name == name);
}
