namespace Turbine.Kubernetes.Cluster;

/// <summary>
/// A kind of object the operator reads or writes, and where the API serves it: the group (empty for the core group,
/// served under <c>/api/v1</c>), the version, the kind and its plural in paths.
/// </summary>
public sealed record ResourceKind(string Group, string Version, string Kind, string Plural)
{
    public static readonly ResourceKind TurbineModel = new("serving.turbine.dev", "v1alpha1", "TurbineModel", "turbinemodels");
    public static readonly ResourceKind Deployment = new("apps", "v1", "Deployment", "deployments");
    public static readonly ResourceKind Service = new(string.Empty, "v1", "Service", "services");
    public static readonly ResourceKind PodDisruptionBudget = new("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets");
    public static readonly ResourceKind HorizontalPodAutoscaler = new("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers");
    public static readonly ResourceKind ScaledObject = new("keda.sh", "v1alpha1", "ScaledObject", "scaledobjects");
    public static readonly ResourceKind HttpRoute = new("gateway.networking.k8s.io", "v1", "HTTPRoute", "httproutes");
    public static readonly ResourceKind ServiceMonitor = new("monitoring.coreos.com", "v1", "ServiceMonitor", "servicemonitors");

    /// <summary>
    /// What a model's objects can be, in the order a teardown deletes them: traffic first (routes), then what scales,
    /// then what serves, so that clients see a route go rather than a Service without endpoints.
    /// </summary>
    public static IReadOnlyList<ResourceKind> Owned { get; } =
        [HttpRoute, ScaledObject, HorizontalPodAutoscaler, ServiceMonitor, PodDisruptionBudget, Service, Deployment];

    /// <summary>The <c>apiVersion</c> field: <c>group/version</c>, or the version alone in the core group.</summary>
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>The kind of an object's <c>apiVersion</c> and <c>kind</c>, among those the operator knows.</summary>
    public static ResourceKind? Find(string? apiVersion, string? kind)
    {
        foreach (var known in Owned.Append(TurbineModel))
        {
            if (known.ApiVersion == apiVersion && known.Kind == kind)
            {
                return known;
            }
        }

        return null;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Kind}.{ApiVersion}";
}
