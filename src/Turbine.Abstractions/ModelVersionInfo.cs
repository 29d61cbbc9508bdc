namespace Turbine;

/// <summary>A served model version as the protocols see it.</summary>
/// <param name="Config">The model's configuration.</param>
/// <param name="Version">The version.</param>
/// <param name="ReadyVersions">All ready versions of the model, ascending.</param>
/// <param name="Statistics">This version's statistics.</param>
/// <param name="QueuedRequests">Requests waiting in its queue when the info was taken.</param>
/// <param name="ExecutingRequests">Requests inside a model execution when the info was taken.</param>
public sealed record ModelVersionInfo(ModelConfig Config, string Version, IReadOnlyList<string> ReadyVersions, ModelStatistics Statistics, int QueuedRequests = 0, int ExecutingRequests = 0);
