namespace Turbine.Jobs.Definition;

/// <summary>
/// Which input columns feed one model input: one column (a scalar, or a list that fills the row's tensor), or several
/// columns whose values are joined, in order, into one tensor per row.
/// </summary>
/// <param name="Input">The model input.</param>
/// <param name="Columns">The columns, in order.</param>
public sealed record InputMapping(string Input, IReadOnlyList<string> Columns);
