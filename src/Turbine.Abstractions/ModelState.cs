namespace Turbine;

/// <summary>The lifecycle states of a model version, as Triton's repository index names them.</summary>
public enum ModelState
{
    /// <summary>Not loaded (never, or unloaded).</summary>
    Unavailable,
    /// <summary>Being loaded.</summary>
    Loading,
    /// <summary>Serving.</summary>
    Ready,
    /// <summary>Draining before release.</summary>
    Unloading,
}

/// <summary>The state of one version of a model.</summary>
/// <param name="Version">The version number.</param>
/// <param name="State">Its lifecycle state.</param>
/// <param name="Reason">Why it is not ready, or empty.</param>
public sealed record ModelVersionStatus(long Version, ModelState State, string Reason);

/// <summary>One line of the repository index.</summary>
/// <param name="Name">The model name.</param>
/// <param name="Version">The version, or null when the model has no loaded versions.</param>
/// <param name="State">Its state.</param>
/// <param name="Reason">Why it is not ready, or empty.</param>
public sealed record RepositoryIndexEntry(string Name, string? Version, ModelState State, string Reason);

/// <summary>A model's serving view: its ready versions, the version that answers by default, and its labels.</summary>
/// <param name="Model">The model name.</param>
/// <param name="Versions">The ready versions, ascending.</param>
/// <param name="DefaultVersion">The version that answers requests naming none (null when none is ready).</param>
/// <param name="Pinned">Whether that default was set by an operator (else it is the newest ready version).</param>
/// <param name="Labels">Label to version.</param>
public sealed record ServingView(string Model, IReadOnlyList<long> Versions, long? DefaultVersion, bool Pinned, IReadOnlyDictionary<string, long> Labels);
