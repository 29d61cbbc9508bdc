namespace Turbine.Cli.Deployment;

/// <summary>What <c>turbine deploy</c> checks a candidate against and how it rolls it out.</summary>
/// <param name="Model">The registered model.</param>
/// <param name="Version">The candidate version.</param>
/// <param name="Alias">The alias a successful deploy moves to the candidate (servers following it switch).</param>
/// <param name="Actor">Who deploys, for the audit trail.</param>
/// <param name="LatencyBudgetMs">The p99 a request of one row may take in process; null for no budget.</param>
/// <param name="MaxSlowdown">How much slower than the current version (rows/s) the candidate may be: 1.1 allows 10%.</param>
/// <param name="Server">A server to roll out through a canary route on; null stops after the checks (the alias still moves).</param>
/// <param name="Route">The route clients call, whose canary takes the candidate from the current version.</param>
/// <param name="CanarySteps">The candidate's share at each step, in percent.</param>
/// <param name="CanaryMinStepRequests">Canary requests a step must see before it passes.</param>
/// <param name="CanaryMinStepSeconds">How long a step lasts at least.</param>
/// <param name="CanaryMaxErrorRate">The error-rate gate.</param>
/// <param name="CanaryMaxP99Ms">The p99 gate; null for none.</param>
/// <param name="CanaryTimeout">How long the rollout may take before it is rolled back.</param>
/// <param name="OptimizePasses">Candidates for the optional optimize stage (as <c>turbine optimize --passes</c>); null skips it.</param>
/// <param name="OptimizeData">The optimize stage's data file.</param>
/// <param name="OptimizeMaxAccuracyDrop">The optimize stage's accuracy bound.</param>
/// <param name="OptimizeMinSpeedup">The optimize stage's latency goal.</param>
internal sealed record DeploySettings(
    string Model,
    long Version,
    string Alias,
    string Actor,
    double? LatencyBudgetMs,
    double MaxSlowdown,
    Uri? Server,
    string? Route,
    IReadOnlyList<int> CanarySteps,
    int CanaryMinStepRequests,
    double CanaryMinStepSeconds,
    double CanaryMaxErrorRate,
    double? CanaryMaxP99Ms,
    TimeSpan CanaryTimeout,
    IReadOnlyList<string>? OptimizePasses = null,
    string? OptimizeData = null,
    double OptimizeMaxAccuracyDrop = 0.01,
    double OptimizeMinSpeedup = 1.05);

/// <summary>One stage's outcome, as the registry records it.</summary>
internal sealed record StageResult(string Stage, bool Passed, string Detail);
