namespace Turbine.Jobs.Mapping;

/// <summary>One output tensor's part for one row: its elements as a typed array (float, double, long, ulong, bool or string) and shape.</summary>
/// <param name="Name">The model output.</param>
/// <param name="DataType">Its element type.</param>
/// <param name="Shape">The row's shape (without the batch dimension for tabular rows; with it for a KServe line).</param>
/// <param name="Values">The elements, row-major.</param>
public sealed record RowOutput(string Name, DataType DataType, long[] Shape, Array Values);

/// <summary>A row's result: its outputs, or the error that kept it from being scored.</summary>
/// <param name="Number">The row's number in the input.</param>
/// <param name="Keys">The key cells carried through.</param>
/// <param name="Outputs">The outputs, when it was scored.</param>
/// <param name="Error">Why it was not.</param>
/// <param name="Attempts">Requests it was sent in (retries and a single-row retry count).</param>
public sealed record ScoredRow(long Number, object?[] Keys, IReadOnlyList<RowOutput>? Outputs, string? Error, int Attempts = 1);
