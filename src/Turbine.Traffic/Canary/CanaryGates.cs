using System.Globalization;

namespace Turbine.Traffic.Canary;

/// <summary>
/// Judges a step's figures against a plan's gates. Before a step is over, a gate fails only on clear evidence (the
/// lower end of Wilson's 95% interval above the limit), so that a few unlucky requests do not roll back a good
/// canary while a broken one is caught after a handful; once the step is over, the observed figures must be within
/// the limits for it to pass.
/// </summary>
public static class CanaryGates
{
    /// <summary>The fewest events (errors, disagreements) that can fail a gate before its step is over.</summary>
    private const int EarlyEvidence = 3;

    /// <summary>Returns why the canary fails, or null when no gate fails.</summary>
    /// <param name="plan">The gates.</param>
    /// <param name="figures">The current step's figures.</param>
    /// <param name="stepOver">Whether the step has lasted long enough and seen enough requests to pass.</param>
    public static string? Failure(CanaryPlan plan, CanaryFigures figures, bool stepOver)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(figures);
        if (plan.MaxErrorRate is { } maxErrors && Exceeds(figures.Errors, figures.Requests, maxErrors, stepOver))
        {
            return Say($"error rate {figures.ErrorRate * 100:F1}% ({figures.Errors} of {figures.Requests}) is over the limit of {maxErrors * 100:F1}%");
        }

        // A p99 means little before the step has its requests; until then only errors and disagreement can fail it.
        if (plan.MaxP99Milliseconds is { } maxP99 && figures.Requests >= Math.Max(plan.MinStepRequests, 1) && figures.P99Milliseconds > maxP99)
        {
            return Say($"p99 latency {figures.P99Milliseconds:F1} ms is over the limit of {maxP99:F1} ms");
        }

        if (plan.MaxDisagreement is { } maxDisagreement && Exceeds(figures.Disagreed, figures.Compared, maxDisagreement, stepOver))
        {
            return Say($"disagreement with the baseline {figures.Disagreement * 100:F1}% ({figures.Disagreed} of {figures.Compared} compared) is over the limit of {maxDisagreement * 100:F1}%");
        }

        return null;
    }

    /// <summary>Why a step that is over passes, with its figures.</summary>
    public static string Success(CanaryFigures figures)
    {
        ArgumentNullException.ThrowIfNull(figures);
        var passed = Say($"{figures.Requests} canary requests over {figures.StepSeconds:F1} s: error rate {figures.ErrorRate * 100:F1}%, p99 {figures.P99Milliseconds:F1} ms");
        return figures.Compared == 0 ? passed : passed + Say($", disagreement {figures.Disagreement * 100:F1}% of {figures.Compared} compared");
    }

    /// <summary>
    /// Whether a rate is over its limit: observed, once the step is over; before that, only with at least
    /// <see cref="EarlyEvidence"/> events and the whole 95% interval above the limit. Judging after every failure
    /// looks at the data many times, and one unlucky first request (1 of 1) would otherwise be enough.
    /// </summary>
    private static bool Exceeds(long events, long trials, double limit, bool stepOver) =>
        trials > 0 && (stepOver
            ? (double)events / trials > limit
            : events >= EarlyEvidence && TwoSampleTests.WilsonInterval(events, trials).Low > limit);

    private static string Say(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
