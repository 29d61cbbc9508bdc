using System.Text.Json.Serialization;

namespace Turbine.Client;

/// <summary>A route's A/B report: per-arm figures added up over every replica, and the shadow's comparison.</summary>
/// <param name="Route">The route.</param>
/// <param name="Arms">One entry per variant, the first being the baseline the others are tested against.</param>
/// <param name="Shadow">The shadow's comparison with the primary, when the route has a shadow.</param>
public sealed record RouteReport(
    [property: JsonPropertyName("route")] string Route,
    [property: JsonPropertyName("arms")] IReadOnlyList<ArmReport> Arms,
    [property: JsonPropertyName("shadow")] ShadowReport? Shadow);

/// <summary>One arm of a route: its weight, the requests it served and the feedback on them.</summary>
/// <param name="Variant">The variant's name.</param>
/// <param name="Weight">Its weight now (a canary rollout moves it).</param>
/// <param name="Requests">Requests it served since the route was set.</param>
/// <param name="Conversions">Yes/no feedback.</param>
/// <param name="Values">Numeric feedback.</param>
public sealed record ArmReport(
    [property: JsonPropertyName("variant")] string Variant,
    [property: JsonPropertyName("weight")] double Weight,
    [property: JsonPropertyName("requests")] long Requests,
    [property: JsonPropertyName("conversions")] ConversionFigures Conversions,
    [property: JsonPropertyName("values")] ValueFigures Values);

/// <summary>Conversions of one arm: a rate with Wilson's 95% interval, and a two-proportion z-test against the first arm (null where undefined).</summary>
/// <param name="Trials">Feedback received.</param>
/// <param name="Successes">Of which converted.</param>
/// <param name="Rate">Successes over trials.</param>
/// <param name="Ci95Low">The interval's low end.</param>
/// <param name="Ci95High">The interval's high end.</param>
/// <param name="ZVsBaseline">The z statistic against the first arm.</param>
/// <param name="PVsBaseline">Its two-sided p-value.</param>
public sealed record ConversionFigures(
    [property: JsonPropertyName("trials")] long Trials,
    [property: JsonPropertyName("successes")] long Successes,
    [property: JsonPropertyName("rate")] double? Rate,
    [property: JsonPropertyName("ci95_low")] double? Ci95Low,
    [property: JsonPropertyName("ci95_high")] double? Ci95High,
    [property: JsonPropertyName("z_vs_baseline")] double? ZVsBaseline,
    [property: JsonPropertyName("p_vs_baseline")] double? PVsBaseline);

/// <summary>Numeric feedback of one arm: a mean with its 95% interval, and Welch's t-test against the first arm.</summary>
/// <param name="Count">Values received.</param>
/// <param name="Mean">Their mean.</param>
/// <param name="Ci95Low">The interval's low end.</param>
/// <param name="Ci95High">The interval's high end.</param>
/// <param name="TVsBaseline">Welch's t against the first arm.</param>
/// <param name="Df">Its degrees of freedom.</param>
/// <param name="PVsBaseline">Its two-sided p-value.</param>
public sealed record ValueFigures(
    [property: JsonPropertyName("count")] long Count,
    [property: JsonPropertyName("mean")] double? Mean,
    [property: JsonPropertyName("ci95_low")] double? Ci95Low,
    [property: JsonPropertyName("ci95_high")] double? Ci95High,
    [property: JsonPropertyName("t_vs_baseline")] double? TVsBaseline,
    [property: JsonPropertyName("df")] double? Df,
    [property: JsonPropertyName("p_vs_baseline")] double? PVsBaseline);

/// <summary>How a route's shadow compares with its primary.</summary>
/// <param name="Variant">The shadow's name.</param>
/// <param name="Share">The share of requests mirrored.</param>
/// <param name="Mirrored">Requests mirrored.</param>
/// <param name="Dropped">Mirrors dropped because the shadow's queue was full.</param>
/// <param name="Shed">Mirrors not sent because the node was busy.</param>
/// <param name="Failed">Mirrors that failed.</param>
/// <param name="Compared">Answers compared.</param>
/// <param name="ExactMatches">Answers equal to the primary's.</param>
/// <param name="ExactMatchRate">Exact matches over compared.</param>
/// <param name="MaxAbsDiff">The largest absolute difference seen.</param>
/// <param name="MeanAbsDiff">The mean absolute difference.</param>
/// <param name="Top1Agreement">Share of answers with the same top-1 class.</param>
/// <param name="PrimaryMeanMs">The primary's mean latency.</param>
/// <param name="ShadowMeanMs">The shadow's mean latency.</param>
public sealed record ShadowReport(
    [property: JsonPropertyName("variant")] string Variant,
    [property: JsonPropertyName("share")] double Share,
    [property: JsonPropertyName("mirrored")] long Mirrored,
    [property: JsonPropertyName("dropped")] long Dropped,
    [property: JsonPropertyName("shed")] long Shed,
    [property: JsonPropertyName("failed")] long Failed,
    [property: JsonPropertyName("compared")] long Compared,
    [property: JsonPropertyName("exact_matches")] long ExactMatches,
    [property: JsonPropertyName("exact_match_rate")] double? ExactMatchRate,
    [property: JsonPropertyName("max_abs_diff")] double? MaxAbsDiff,
    [property: JsonPropertyName("mean_abs_diff")] double? MeanAbsDiff,
    [property: JsonPropertyName("top1_agreement")] double? Top1Agreement,
    [property: JsonPropertyName("primary_mean_ms")] double? PrimaryMeanMs,
    [property: JsonPropertyName("shadow_mean_ms")] double? ShadowMeanMs);

/// <summary>Where a canary rollout stands: its state and step, the canary's share, the step's figures and the last decisions.</summary>
/// <param name="Route">The route.</param>
/// <param name="State">running, paused, promoted or rolled_back.</param>
/// <param name="Step">The current step, from 1.</param>
/// <param name="Steps">How many steps the plan has.</param>
/// <param name="CanaryPercent">The canary's share of the traffic now.</param>
/// <param name="Figures">The current step's figures (every replica's, on a shared store).</param>
/// <param name="Decisions">The last decisions, oldest first.</param>
public sealed record CanaryStatus(
    [property: JsonPropertyName("route")] string Route,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("step")] int Step,
    [property: JsonPropertyName("steps")] int Steps,
    [property: JsonPropertyName("canary_percent")] double CanaryPercent,
    [property: JsonPropertyName("figures")] CanaryStepFigures Figures,
    [property: JsonPropertyName("decisions")] IReadOnlyList<CanaryDecisionRecord> Decisions);

/// <summary>What a rollout's gates judge: one step's canary requests, errors, p99 and disagreement with the baseline.</summary>
/// <param name="Requests">Canary requests.</param>
/// <param name="Errors">Of which failed.</param>
/// <param name="ErrorRate">Errors over requests.</param>
/// <param name="P99Ms">The canary's p99 latency.</param>
/// <param name="Compared">Shadow comparisons.</param>
/// <param name="Disagreed">Of which disagreed.</param>
/// <param name="Disagreement">Disagreed over compared.</param>
/// <param name="StepSeconds">How long the step has lasted.</param>
/// <param name="BaselineRequests">Baseline requests.</param>
/// <param name="BaselineErrors">Of which failed.</param>
public sealed record CanaryStepFigures(
    [property: JsonPropertyName("requests")] long Requests,
    [property: JsonPropertyName("errors")] long Errors,
    [property: JsonPropertyName("error_rate")] double ErrorRate,
    [property: JsonPropertyName("p99_ms")] double P99Ms,
    [property: JsonPropertyName("compared")] long Compared,
    [property: JsonPropertyName("disagreed")] long Disagreed,
    [property: JsonPropertyName("disagreement")] double Disagreement,
    [property: JsonPropertyName("step_seconds")] double StepSeconds,
    [property: JsonPropertyName("baseline_requests")] long BaselineRequests,
    [property: JsonPropertyName("baseline_errors")] long BaselineErrors);

/// <summary>One decision of a rollout, as its audit log keeps it.</summary>
/// <param name="Time">When it was taken.</param>
/// <param name="Action">start, promote, complete, rollback, pause, resume or restore.</param>
/// <param name="Actor">gate, operator or server.</param>
/// <param name="FromPercent">The canary's share before.</param>
/// <param name="ToPercent">The canary's share after.</param>
/// <param name="Reason">Why, in words.</param>
/// <param name="Figures">The step's figures when it was taken.</param>
public sealed record CanaryDecisionRecord(
    [property: JsonPropertyName("time")] DateTimeOffset Time,
    [property: JsonPropertyName("action")] string Action,
    [property: JsonPropertyName("actor")] string Actor,
    [property: JsonPropertyName("from_percent")] double FromPercent,
    [property: JsonPropertyName("to_percent")] double ToPercent,
    [property: JsonPropertyName("reason")] string Reason,
    [property: JsonPropertyName("figures")] CanaryStepFigures Figures);

/// <summary>A pipeline's statistics: requests answered and failed, and each step's.</summary>
/// <param name="Name">The pipeline.</param>
/// <param name="Success">Requests answered.</param>
/// <param name="Fail">Requests failed.</param>
/// <param name="Steps">Each step's figures.</param>
public sealed record PipelineStatistics(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("success")] DurationFigures Success,
    [property: JsonPropertyName("fail")] DurationFigures Fail,
    [property: JsonPropertyName("steps")] IReadOnlyList<PipelineStepStatistics> Steps);

/// <summary>One step of a pipeline: its runs, and for a cascade the answers per stage, for a switch the picks per case.</summary>
/// <param name="Name">The step.</param>
/// <param name="Kind">model, switch, cascade or aggregate.</param>
/// <param name="Success">Runs that succeeded.</param>
/// <param name="Fail">Runs that failed.</param>
/// <param name="Stages">A cascade's stages and the rows each answered.</param>
/// <param name="EscalatedShare">A cascade's share of rows sent past its first stage.</param>
/// <param name="Cases">A switch's cases and how often each was picked.</param>
public sealed record PipelineStepStatistics(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("success")] DurationFigures Success,
    [property: JsonPropertyName("fail")] DurationFigures Fail,
    [property: JsonPropertyName("stages")] IReadOnlyList<CascadeStageFigures>? Stages,
    [property: JsonPropertyName("escalated_share")] double? EscalatedShare,
    [property: JsonPropertyName("cases")] IReadOnlyDictionary<string, long>? Cases);

/// <summary>A count of events and their total time.</summary>
/// <param name="Count">Events.</param>
/// <param name="Nanoseconds">Their total duration.</param>
public sealed record DurationFigures([property: JsonPropertyName("count")] long Count, [property: JsonPropertyName("ns")] long Nanoseconds)
{
    /// <summary>The mean duration in milliseconds, or null without events.</summary>
    public double? MeanMilliseconds => Count == 0 ? null : Nanoseconds / 1e6 / Count;
}

/// <summary>A cascade stage: the model and the rows it answered.</summary>
/// <param name="Model">The stage's model (and version).</param>
/// <param name="Answered">Rows it answered.</param>
public sealed record CascadeStageFigures([property: JsonPropertyName("model")] string Model, [property: JsonPropertyName("answered")] long Answered);

/// <summary>A route as the server stores it: its variants and what it has besides (the whole definition stays in <see cref="Json"/>).</summary>
/// <param name="Name">The route.</param>
/// <param name="Variants">Its variants with their weights.</param>
/// <param name="Json">The route's JSON, as <c>PUT /v2/routes/{name}</c> takes it.</param>
public sealed record RouteSummary(string Name, IReadOnlyList<RouteVariantSummary> Variants, string Json);

/// <summary>One variant of a route.</summary>
/// <param name="Name">The variant's name (its model, or model:version).</param>
/// <param name="Model">The model or pipeline it calls.</param>
/// <param name="Version">The version or label, if pinned.</param>
/// <param name="Weight">Its declared weight.</param>
public sealed record RouteVariantSummary(string Name, string Model, string? Version, double Weight);

/// <summary>A pipeline as the server stores it: its steps by name and kind (the whole definition stays in <see cref="Json"/>).</summary>
/// <param name="Name">The pipeline.</param>
/// <param name="Steps">Its steps, in order, as <c>name (kind)</c>.</param>
/// <param name="Json">The pipeline's JSON, as <c>PUT /v2/pipelines/{name}</c> takes it.</param>
public sealed record PipelineSummary(string Name, IReadOnlyList<string> Steps, string Json);

/// <summary>The source-generated serializers of the control-plane models (no reflection, trimming-safe).</summary>
[JsonSerializable(typeof(RouteReport))]
[JsonSerializable(typeof(CanaryStatus))]
[JsonSerializable(typeof(PipelineStatistics))]
[JsonSerializable(typeof(BatchJob))]
[JsonSerializable(typeof(BatchJobList))]
[JsonSerializable(typeof(BatchJobResults))]
[JsonSerializable(typeof(ModelDrift))]
[JsonSerializable(typeof(CostView))]
[JsonSourceGenerationOptions(NumberHandling = JsonNumberHandling.AllowReadingFromString)]
internal sealed partial class ControlPlaneJson : JsonSerializerContext;
