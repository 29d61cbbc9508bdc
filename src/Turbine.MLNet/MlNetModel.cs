using Microsoft.ML;

namespace Turbine.MLNet;

/// <summary>A loaded ML.NET pipeline with its input and output columns mapped to tensors.</summary>
/// <param name="Transformer">The pipeline.</param>
/// <param name="InputSchema">The schema it was saved with.</param>
/// <param name="Inputs">Every column of its input schema, in order.</param>
/// <param name="Outputs">The columns it adds, each an output tensor.</param>
/// <param name="Warnings">Columns left out, and why.</param>
/// <param name="Unread">
/// Input columns the pipeline does not read (the label, for most trained pipelines): they are no input tensor, and read
/// as zero or empty.
/// </param>
internal sealed record MlNetModel(ITransformer Transformer, DataViewSchema InputSchema, IReadOnlyList<(DataViewSchema.Column Column, ColumnKind Kind)> Inputs, IReadOnlyList<(DataViewSchema.Column Column, ColumnKind Kind)> Outputs, IReadOnlySet<string> Unread, IReadOnlyList<string> Warnings)
{
    /// <summary>Loads <c>model.zip</c>; the columns Turbine cannot map are refused (inputs) or left out with a warning (outputs).</summary>
    public static MlNetModel Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new InferenceException($"the ML.NET model file '{Path.GetFileName(path)}' is missing");
        }

        ITransformer transformer;
        DataViewSchema inputSchema;
        try
        {
            transformer = new MLContext(seed: 0).Model.Load(path, out inputSchema);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or InvalidDataException or ArgumentException or IOException or NotSupportedException)
        {
            throw new InferenceException($"ML.NET could not load the model: {e.Message}");
        }

        if (inputSchema is null)
        {
            throw new InferenceException("the ML.NET model was saved without its input schema (save it with MLContext.Model.Save(model, inputSchema, path))");
        }

        var inputs = new List<(DataViewSchema.Column, ColumnKind)>();
        foreach (var column in inputSchema)
        {
            inputs.Add((column, ColumnKind.Of(column, out var reason) ?? throw new InferenceException($"input {reason}")));
        }

        var warnings = new List<string>();
        var outputs = new List<(DataViewSchema.Column, ColumnKind)>();
        foreach (var column in transformer.GetOutputSchema(inputSchema).Where(c => !c.IsHidden && !IsPassThrough(c, inputSchema)))
        {
            if (ColumnKind.Of(column, out var reason) is { Width: > 0 } kind)
            {
                outputs.Add((column, kind));
            }
            else
            {
                warnings.Add($"output {reason ?? $"column '{column.Name}' is a vector of varying size"}: left out");
            }
        }

        return new MlNetModel(transformer, inputSchema, inputs, outputs, Unneeded(transformer, inputSchema), warnings);
    }

    /// <summary>
    /// The input columns the pipeline's schema still holds up without (and the hidden ones): a trained pipeline keeps
    /// its training schema, label included, though scoring never reads it.
    /// </summary>
    private static HashSet<string> Unneeded(ITransformer transformer, DataViewSchema inputSchema)
    {
        var unneeded = new HashSet<string>(inputSchema.Where(c => c.IsHidden).Select(c => c.Name), StringComparer.Ordinal);
        foreach (var column in inputSchema.Where(c => !c.IsHidden))
        {
            var without = new DataViewSchema.Builder();
            without.AddColumns(inputSchema.Where(c => c.Index != column.Index));
            try
            {
                transformer.GetOutputSchema(without.ToSchema());
                unneeded.Add(column.Name);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                // the pipeline reads it
            }
        }

        return unneeded;
    }

    /// <summary>An input column the pipeline passes through unchanged is not an output.</summary>
    private static bool IsPassThrough(DataViewSchema.Column column, DataViewSchema inputSchema) =>
        inputSchema.GetColumnOrNull(column.Name) is { } input && input.Type.Equals(column.Type);

    public ModelSignature Signature() => new(
        [.. Inputs.Where(i => !Unread.Contains(i.Column.Name)).Select(i => new TensorSignature(i.Column.Name, i.Kind.DataType, i.Kind.Shape))],
        [.. Outputs.Select(o => new TensorSignature(o.Column.Name, o.Kind.DataType, o.Kind.Shape))])
    {
        Warnings = Warnings,
    };
}
