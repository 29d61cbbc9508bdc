namespace Turbine.Traffic;

/// <summary>One arm of a route: a model, optionally a version number or label, and its share of the traffic.</summary>
/// <param name="Model">The model that serves this arm.</param>
/// <param name="Version">A version number or label; null means the model's default version.</param>
/// <param name="Weight">Relative share of the route's traffic; 0 takes the arm out without deleting it.</param>
public sealed record RouteVariant(string Model, string? Version, double Weight)
{
    /// <summary>How responses and metrics name the arm: <c>model</c> or <c>model:version</c>.</summary>
    public string Name => Version is null ? Model : Model + ":" + Version;
}

/// <summary>
/// A route: a public model name that clients call through the normal inference endpoints, served by one of its
/// variants, chosen by weight. With <see cref="StickyParameter"/>, requests carrying the same value of that request
/// parameter (a user id, say) always land in the same variant while the weights stay the same.
/// </summary>
/// <param name="Name">The name clients call; it may not be a model's name.</param>
/// <param name="Variants">The arms, at least one with a positive weight.</param>
/// <param name="StickyParameter">The request parameter whose value keeps a caller in one arm; null for a fresh draw per request.</param>
/// <param name="Shadow">A model that gets a copy of a share of the route's requests, off the client's path; null for none.</param>
/// <param name="Resilience">Timeouts, retries, circuit breakers, bulkheads and fallbacks for the variants; null for none.</param>
/// <param name="Canary">A rollout from the first variant (the baseline) to the second (the canary); null for fixed weights.</param>
/// <param name="StickyHeader">An HTTP header (gRPC metadata key) whose value keeps a caller in one arm when the request has no sticky parameter.</param>
public sealed record RouteDefinition(
    string Name, IReadOnlyList<RouteVariant> Variants, string? StickyParameter = null, ShadowTarget? Shadow = null, RouteResilience? Resilience = null,
    Canary.CanaryPlan? Canary = null, string? StickyHeader = null);

/// <summary>
/// How a route protects its clients from a failing or slow variant. Each variant gets its own copy of these
/// strategies (its own circuit and bulkhead); when a variant fails, is over its deadline, its circuit is open or its
/// bulkhead is full, the fallbacks are tried in order.
/// </summary>
/// <param name="TimeoutMilliseconds">Deadline of one attempt on a variant; 0 for none.</param>
/// <param name="Retries">Further attempts after a transient failure (503, 500, 504), with exponential backoff from 10 ms.</param>
/// <param name="MaxConcurrency">Requests a variant may have in flight at once (a bulkhead); 0 for no limit.</param>
/// <param name="CircuitBreaker">When to stop calling a failing variant for a while; null for no breaker.</param>
/// <param name="Fallbacks">Models (and versions) tried in order when the chosen variant cannot answer.</param>
/// <param name="DefaultResponse">The fixed outputs answered when the fallbacks cannot answer either; null for none.</param>
/// <param name="Hedge">A second target the request also goes to when the variant is slow (speculative execution); null for none.</param>
public sealed record RouteResilience(
    double TimeoutMilliseconds, int Retries, int MaxConcurrency, CircuitBreakerSettings? CircuitBreaker, IReadOnlyList<RouteVariant> Fallbacks,
    IReadOnlyList<FixedTensor>? DefaultResponse = null, RouteHedge? Hedge = null)
{
    /// <summary>Every target besides the variants that may answer for the route: the fallbacks and the hedge.</summary>
    public IEnumerable<RouteVariant> OtherTargets => Hedge is { } hedge ? Fallbacks.Append(hedge.Target) : Fallbacks;
}

/// <summary>
/// A hedged request: when the chosen variant has not answered after the <see cref="AfterPercentile"/> of the route's
/// latest answers (never before <see cref="MinMilliseconds"/>), the request also goes to <see cref="Target"/>; the first
/// good answer wins and the other call is cancelled.
/// </summary>
/// <param name="Target">The model (and version) hedged to.</param>
/// <param name="AfterPercentile">The percentile of the route's latest 512 answers to wait for, from 50 to 99.9.</param>
/// <param name="MinMilliseconds">The least wait, also the wait until 32 answers are known.</param>
public sealed record RouteHedge(RouteVariant Target, double AfterPercentile = 95, double MinMilliseconds = 10);

/// <summary>A circuit breaker's settings (Polly's): failure ratio over a sampling window, and how long it stays open.</summary>
/// <param name="FailureRatio">The share of failed calls in the window that opens the circuit, in (0, 1].</param>
/// <param name="MinimumThroughput">Calls the window must hold before the ratio counts (at least 2).</param>
/// <param name="SamplingSeconds">The window (at least 0.5 s).</param>
/// <param name="BreakSeconds">How long the circuit stays open before a probe is let through (at least 0.5 s).</param>
public sealed record CircuitBreakerSettings(double FailureRatio, int MinimumThroughput, double SamplingSeconds, double BreakSeconds);

/// <summary>Where a route mirrors traffic: a model (and optionally a version or label), and the share of requests mirrored.</summary>
/// <param name="Model">The shadow model.</param>
/// <param name="Version">A version number or label; null for the default version.</param>
/// <param name="Share">The fraction of the route's requests mirrored, from 0 to 1.</param>
/// <param name="MaxCpu">
/// The process's share of all cores above which mirrors are shed (counted, not sent), so that a saturated node spends
/// its CPU on clients; 1 never sheds.
/// </param>
public sealed record ShadowTarget(string Model, string? Version, double Share, double MaxCpu = ShadowTarget.DefaultMaxCpu)
{
    /// <summary>Mirrors are shed while the process uses more than 90% of all cores.</summary>
    public const double DefaultMaxCpu = 0.9;

    /// <summary>How reports name the shadow: <c>model</c> or <c>model:version</c>.</summary>
    public string Name => Version is null ? Model : Model + ":" + Version;
}
