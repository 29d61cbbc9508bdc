namespace Turbine.Core.Traffic;

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
public sealed record RouteDefinition(string Name, IReadOnlyList<RouteVariant> Variants, string? StickyParameter = null, ShadowTarget? Shadow = null);

/// <summary>Where a route mirrors traffic: a model (and optionally a version or label), and the share of requests mirrored.</summary>
/// <param name="Model">The shadow model.</param>
/// <param name="Version">A version number or label; null for the default version.</param>
/// <param name="Share">The fraction of the route's requests mirrored, from 0 to 1.</param>
public sealed record ShadowTarget(string Model, string? Version, double Share)
{
    /// <summary>How reports name the shadow: <c>model</c> or <c>model:version</c>.</summary>
    public string Name => Version is null ? Model : Model + ":" + Version;
}
