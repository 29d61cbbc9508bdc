using System.Text.Json.Nodes;

namespace Turbine.Kubernetes.Cluster;

/// <summary>
/// The part of the Kubernetes API the operator uses, over objects as JSON: the real one is
/// <see cref="KubernetesClusterApi"/>; the tests run the reconciler against an in-memory one, since no API server can
/// run on the machines that build Turbine.
/// </summary>
public interface IClusterApi
{
    /// <summary>The object, or null when there is none.</summary>
    Task<JsonObject?> GetAsync(ResourceKind kind, string ns, string name, CancellationToken cancellationToken);

    /// <summary>The objects of a kind in a namespace (every namespace when null), those with every label of <paramref name="labels"/>.</summary>
    Task<IReadOnlyList<JsonObject>> ListAsync(ResourceKind kind, string? ns, IReadOnlyDictionary<string, string>? labels, CancellationToken cancellationToken);

    /// <summary>Creates the object; <see cref="ClusterApiException"/> with 409 when it exists.</summary>
    Task<JsonObject> CreateAsync(ResourceKind kind, JsonObject item, CancellationToken cancellationToken);

    /// <summary>Replaces the object (not its status); 409 when its <c>resourceVersion</c> is stale.</summary>
    Task<JsonObject> ReplaceAsync(ResourceKind kind, JsonObject item, CancellationToken cancellationToken);

    /// <summary>Replaces the object's status subresource; 409 when its <c>resourceVersion</c> is stale.</summary>
    Task<JsonObject> ReplaceStatusAsync(ResourceKind kind, JsonObject item, CancellationToken cancellationToken);

    /// <summary>Deletes the object (in the background: dependents are collected after it); none is no error.</summary>
    Task DeleteAsync(ResourceKind kind, string ns, string name, CancellationToken cancellationToken);

    /// <summary>Changes to objects of a kind from now on, until cancelled or the server ends the watch.</summary>
    IAsyncEnumerable<ClusterEvent> WatchAsync(ResourceKind kind, string? ns, IReadOnlyDictionary<string, string>? labels, CancellationToken cancellationToken);
}

/// <summary>What a watch saw: an object added, modified or deleted.</summary>
public sealed record ClusterEvent(ClusterEventType Type, JsonObject Item);

/// <summary>The change a watch event reports.</summary>
public enum ClusterEventType
{
    Added,
    Modified,
    Deleted,
}

/// <summary>A request the API answered with an error status.</summary>
public sealed class ClusterApiException(int status, string message) : Exception(message)
{
    /// <summary>The HTTP status: 404 not found, 409 conflict, 422 invalid, ...</summary>
    public int Status { get; } = status;
}
