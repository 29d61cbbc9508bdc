namespace Turbine.Jobs.Formats;

/// <summary>
/// One input row as its format read it: a cell per planned column (string, long, double, bool, null, a list of those,
/// an array of numbers (float, double, int or long), or a <see cref="TensorCell"/>), or why the row could not be read. A bad row is a row error, never a job failure.
/// </summary>
/// <param name="Number">The row's number in the whole input, from 0.</param>
/// <param name="Cells">The cells, by the plan's column order; null when <paramref name="Error"/> is set.</param>
/// <param name="Error">Why the row could not be read.</param>
public readonly record struct SourceRow(long Number, object?[]? Cells, string? Error)
{
    /// <summary>A row that could not be read.</summary>
    public static SourceRow Failed(long number, string error) => new(number, null, error);
}

/// <summary>A cell that is already a tensor, with its own type and shape (an input of a KServe v2 request line).</summary>
/// <param name="DataType">The element type the line declared.</param>
/// <param name="Shape">The shape the line declared; its first dimension is the rows it contributes.</param>
/// <param name="Values">The elements, flattened in row-major order.</param>
public sealed record TensorCell(DataType DataType, long[] Shape, IReadOnlyList<object?> Values);

/// <summary>The input could not be planned: the job fails with this reason before any row is scored.</summary>
public sealed class JobValidationException : Exception
{
    public JobValidationException()
        : base("the job is not valid")
    {
    }

    public JobValidationException(string message)
        : base(message)
    {
    }

    public JobValidationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
