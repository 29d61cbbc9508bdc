namespace Turbine.Jobs.Definition;

/// <summary>What a batch job scores: a model, its input file, where its output goes, and how columns feed the model.</summary>
/// <param name="Model">The model (or route or pipeline) every row goes through.</param>
/// <param name="Version">A version number or label; null for the model's default.</param>
/// <param name="Input">The input file.</param>
/// <param name="Output">The output folder: part files, dead letters and the summary.</param>
/// <param name="Inputs">How columns feed model inputs; empty maps each model input to the column of its name.</param>
/// <param name="Keys">Input columns copied into every output row so rows can be joined back; empty writes the row number.</param>
/// <param name="Outputs">The model outputs written; empty writes all.</param>
/// <param name="Options">Partitioning, pacing, retries and the error budget.</param>
public sealed record JobDefinition(
    string Model,
    string? Version,
    DataLocation Input,
    DataLocation Output,
    IReadOnlyList<InputMapping> Inputs,
    IReadOnlyList<string> Keys,
    IReadOnlyList<string> Outputs,
    JobOptions Options);
