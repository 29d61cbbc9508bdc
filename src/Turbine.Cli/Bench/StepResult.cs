namespace Turbine.Cli.Bench;

/// <summary>
/// One load level of a run: what the client saw (throughput, latency) and what the server says it did meanwhile,
/// from its statistics endpoint: average queue time per request, compute time per execution, rows per execution.
/// </summary>
internal sealed record StepResult(
    string Protocol, string Mode, double Load, WindowResult Client, int Windows, bool Stable,
    double ServerQueueUs, double ServerComputeUs, double RowsPerExecution);
