namespace Turbine.Traffic.Canary;

/// <summary>
/// How a route moves traffic from its baseline (the first variant) to its canary (the second): the canary's share at
/// each step, how long and how many canary requests a step lasts at least, and the gates the canary must pass to move
/// on. A gate left null is not checked.
/// </summary>
/// <param name="Steps">The canary's percentage of traffic at each step, rising, each in (0, 100].</param>
/// <param name="MinStepSeconds">The least time a step lasts before it can pass.</param>
/// <param name="MinStepRequests">The least canary requests a step sees before it can pass.</param>
/// <param name="MaxErrorRate">The highest share of the canary's requests that may fail (500, 503, 504, or answered by a fallback).</param>
/// <param name="MaxP99Milliseconds">The highest p99 latency the canary may show over a step.</param>
/// <param name="MaxDisagreement">With a shadow on the route: the highest share of compared requests whose outputs may disagree (top-1 for classifiers, exact match otherwise).</param>
public sealed record CanaryPlan(
    IReadOnlyList<double> Steps, double MinStepSeconds, long MinStepRequests, double? MaxErrorRate, double? MaxP99Milliseconds, double? MaxDisagreement);

/// <summary>Where a rollout stands.</summary>
public enum CanaryState
{
    /// <summary>Gates are judged and steps advance by themselves.</summary>
    Running,
    /// <summary>An operator stopped the automatic decisions; the weights stay where they are.</summary>
    Paused,
    /// <summary>Every step passed: the canary takes all the traffic.</summary>
    Promoted,
    /// <summary>A gate failed or an operator rolled back: the baseline takes all the traffic.</summary>
    RolledBack,
}

/// <summary>What the canary did during the current step.</summary>
/// <param name="Requests">Canary requests answered or failed in this step.</param>
/// <param name="Errors">Of those, the ones that failed.</param>
/// <param name="P99Milliseconds">The canary's p99 latency in this step (a bucket's upper bound, at most 9% high).</param>
/// <param name="Compared">Requests the shadow compared in this step.</param>
/// <param name="Disagreed">Of those, the ones whose outputs disagreed.</param>
/// <param name="StepSeconds">How long the step has lasted.</param>
/// <param name="BaselineRequests">Baseline requests in this step, for context.</param>
/// <param name="BaselineErrors">Of those, the ones that failed.</param>
public sealed record CanaryFigures(
    long Requests, long Errors, double P99Milliseconds, long Compared, long Disagreed, double StepSeconds, long BaselineRequests, long BaselineErrors)
{
    public double ErrorRate => Requests == 0 ? 0 : (double)Errors / Requests;

    public double Disagreement => Compared == 0 ? 0 : (double)Disagreed / Compared;
}

/// <summary>One decision of a rollout, as the audit log keeps it.</summary>
/// <param name="Time">When it was taken.</param>
/// <param name="Action">start, promote, complete, rollback, pause, resume or restore.</param>
/// <param name="Actor">gate (automatic), operator (the API or CLI) or server (start and restart).</param>
/// <param name="FromPercent">The canary's share before.</param>
/// <param name="ToPercent">The canary's share after.</param>
/// <param name="Reason">Why, in words with the figures that decided it.</param>
/// <param name="Figures">The step's figures when it was taken.</param>
public sealed record CanaryDecision(
    DateTimeOffset Time, string Action, string Actor, double FromPercent, double ToPercent, string Reason, CanaryFigures Figures);
