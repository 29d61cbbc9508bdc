namespace Turbine.Kubernetes.Resources;

/// <summary>
/// What a <c>TurbineModel</c> asks for: one model from the registry, served by its own Deployment (field names as
/// the CRD's schema, deploy/kubernetes/operator/crd.yaml, spells them).
/// </summary>
public sealed record TurbineModelSpec
{
    /// <summary>The registry reference the pods follow: <c>model@alias</c> (or <c>model@3</c> for a fixed version).</summary>
    public string Model { get; init; } = string.Empty;

    /// <summary>The server image; Turbine's CPU image, or its GPU image when <see cref="Gpus"/> is above 0.</summary>
    public string? Image { get; init; }

    /// <summary>The Secret mounted as files: management token, API key, the registry's signing public key.</summary>
    public string SecretName { get; init; } = "turbine-secrets";

    /// <summary>Where the registry is; the pods follow <see cref="Model"/> in it.</summary>
    public RegistrySpec Registry { get; init; } = new();

    /// <summary>A fixed replica count; exclusive with <see cref="Autoscaling"/>.</summary>
    public int? Replicas { get; init; }

    /// <summary>Scaling on serving signals, by an HPA or a KEDA ScaledObject; exclusive with <see cref="Replicas"/>.</summary>
    public AutoscalingSpec? Autoscaling { get; init; }

    /// <summary>The server container's requests and limits (<c>cpu</c>, <c>memory</c>), as Kubernetes quantities.</summary>
    public ResourcesSpec? Resources { get; init; }

    /// <summary>NVIDIA GPUs per pod: the GPU image's runtime class and a device request when above 0.</summary>
    public int Gpus { get; init; }

    /// <summary>Gateway API routes that send outside traffic to the model.</summary>
    public IReadOnlyList<RouteSpec> Routes { get; init; } = [];

    /// <summary>Whether to create a ServiceMonitor (the Prometheus operator's) for the pods' metrics.</summary>
    public bool ServiceMonitor { get; init; }
}

/// <summary>The shared registry: PostgreSQL metadata and S3-compatible artifacts (docs/REGISTRY.md).</summary>
public sealed record RegistrySpec
{
    /// <summary>The Secret with the keys <c>registry-postgres</c>, <c>aws-access-key-id</c> and <c>aws-secret-access-key</c>.</summary>
    public string SecretName { get; init; } = "turbine-shared";

    public string S3Bucket { get; init; } = "turbine-registry";

    /// <summary>The S3-compatible service's URL (MinIO, Ceph, ...); AWS when absent.</summary>
    public string? S3Endpoint { get; init; }

    public string? S3Prefix { get; init; }
}

/// <summary>How the model's replicas follow its load.</summary>
public sealed record AutoscalingSpec
{
    /// <summary><c>HPA</c> (the Prometheus adapter's custom metrics) or <c>KEDA</c> (a Prometheus query; may scale to zero).</summary>
    public string Engine { get; init; } = AutoscalingEngines.Hpa;

    /// <summary>The fewest replicas; 0 (KEDA only) scales to zero when idle.</summary>
    public int MinReplicas { get; init; } = 1;

    /// <summary>The most replicas: the cost ceiling.</summary>
    public int MaxReplicas { get; init; } = 10;

    /// <summary>The signal: <c>pending</c> (queue depth), <c>executing</c> (requests in the model) or <c>llm-waiting</c>.</summary>
    public string Metric { get; init; } = ScalingMetrics.Pending;

    /// <summary>The signal's target per replica.</summary>
    public double Target { get; init; } = 8;

    /// <summary>How long lower load must last before replicas are removed (one per minute at most).</summary>
    public int ScaleDownStabilizationSeconds { get; init; } = 300;

    /// <summary>KEDA's Prometheus.</summary>
    public string PrometheusAddress { get; init; } = "http://prometheus-operated.monitoring.svc:9090";
}

/// <summary>Requests and limits of the server container.</summary>
public sealed record ResourcesSpec
{
    public IReadOnlyDictionary<string, string> Requests { get; init; } = new Dictionary<string, string>();

    public IReadOnlyDictionary<string, string> Limits { get; init; } = new Dictionary<string, string>();
}

/// <summary>One HTTPRoute: the hostnames a Gateway sends to the model's Service.</summary>
public sealed record RouteSpec
{
    /// <summary>Names the HTTPRoute (<c>turbine-MODEL-NAME</c>).</summary>
    public string Name { get; init; } = string.Empty;

    public GatewayReference Gateway { get; init; } = new();

    public IReadOnlyList<string> Hostnames { get; init; } = [];
}

/// <summary>The Gateway a route attaches to.</summary>
public sealed record GatewayReference
{
    public string Name { get; init; } = string.Empty;

    /// <summary>The Gateway's namespace; the model's when absent.</summary>
    public string? Namespace { get; init; }

    /// <summary>One listener of the Gateway, when not all.</summary>
    public string? SectionName { get; init; }
}

/// <summary>The autoscaling engines a <c>TurbineModel</c> can ask for.</summary>
public static class AutoscalingEngines
{
    public const string Hpa = "HPA";
    public const string Keda = "KEDA";
}

/// <summary>The serving signals to scale on, and Turbine's gauge behind each.</summary>
public static class ScalingMetrics
{
    public const string Pending = "pending";
    public const string Executing = "executing";
    public const string LlmWaiting = "llm-waiting";

    /// <summary>The Prometheus gauge of a signal, or null for one Turbine does not export.</summary>
    public static string? Gauge(string metric) => metric switch
    {
        Pending => "turbine_inference_pending_requests",
        Executing => "turbine_inference_executing_requests",
        LlmWaiting => "turbine_llm_num_requests_waiting",
        _ => null,
    };
}
