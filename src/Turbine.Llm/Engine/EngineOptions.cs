namespace Turbine.Llm.Engine;

/// <summary>How a generation engine sizes its cache and its steps.</summary>
/// <param name="KvBudgetBytes">Memory for the key/value cache, allocated up front.</param>
/// <param name="BlockTokens">Positions per cache block.</param>
/// <param name="MaxBatch">Sequences in one step at most.</param>
/// <param name="MaxContext">Prompt plus generated tokens at most (the model's context).</param>
public sealed record EngineOptions(long KvBudgetBytes = 64L << 20, int BlockTokens = 16, int MaxBatch = 32, int MaxContext = 1024);
