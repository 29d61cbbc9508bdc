namespace Turbine.Jobs.Mapping;

/// <summary>
/// A row ready for the model: each input's elements in the tensor's byte layout and the row's shape for it (without
/// the batch dimension when the model batches), or the reason it could not be mapped.
/// </summary>
/// <param name="Number">The row's number in the input.</param>
/// <param name="Keys">The key cells carried to the output.</param>
/// <param name="Inputs">Each model input's elements, in the model's input order.</param>
/// <param name="Shapes">Each input's shape for this row.</param>
/// <param name="Batch">Rows of the model's batch dimension this row fills: 1, or a KServe request's first dimension.</param>
/// <param name="Error">Why the row cannot be scored.</param>
internal sealed record MappedRow(long Number, object?[] Keys, byte[][]? Inputs, long[][]? Shapes, int Batch, string? Error)
{
    /// <summary>Whether <paramref name="other"/> can go in the same request: the same shape for every input.</summary>
    public bool Fits(MappedRow other)
    {
        for (var i = 0; i < Shapes!.Length; i++)
        {
            if (!Shapes[i].AsSpan().SequenceEqual(other.Shapes![i]))
            {
                return false;
            }
        }

        return true;
    }
}
