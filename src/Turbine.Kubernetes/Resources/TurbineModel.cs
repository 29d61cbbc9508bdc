using System.Text.Json;
using System.Text.Json.Nodes;
using Turbine.Kubernetes.Cluster;

namespace Turbine.Kubernetes.Resources;

/// <summary>A <c>TurbineModel</c> as the operator reads it: who it is, what it asks for, what it last reported.</summary>
public sealed record TurbineModel(string Name, string Namespace, string Uid, long Generation, TurbineModelSpec Spec, TurbineModelStatus Status)
{
    /// <summary>The finalizer that holds a deleted model until its objects are torn down in order.</summary>
    public const string Finalizer = "serving.turbine.dev/teardown";

    /// <summary>The names of its objects: <c>turbine-NAME</c>.</summary>
    public string ObjectName => $"turbine-{Name}";

    /// <summary>Labels on every object of this model, and the pods' selector.</summary>
    public IReadOnlyDictionary<string, string> SelectorLabels => new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["app.kubernetes.io/name"] = "turbine",
        ["app.kubernetes.io/instance"] = Name,
        ["app.kubernetes.io/component"] = "server",
    };

    /// <summary>The selector labels and the operator's own mark.</summary>
    public IReadOnlyDictionary<string, string> Labels => new Dictionary<string, string>(SelectorLabels, StringComparer.Ordinal)
    {
        ["app.kubernetes.io/managed-by"] = "turbine-operator",
    };

    /// <summary>Where the cluster reaches the model's REST endpoints.</summary>
    public string Url => $"http://{ObjectName}.{Namespace}.svc:8000";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Reads the resource; <see cref="JsonException"/> when its spec is not of the schema's shape.</summary>
    public static TurbineModel From(JsonObject item)
    {
        ArgumentNullException.ThrowIfNull(item);
        var spec = item["spec"]?.Deserialize<TurbineModelSpec>(Json) ?? new TurbineModelSpec();
        var status = item["status"]?.Deserialize<TurbineModelStatus>(Json) ?? new TurbineModelStatus();
        return new TurbineModel(KubeObject.Name(item), KubeObject.Namespace(item), KubeObject.Uid(item) ?? string.Empty, KubeObject.Generation(item), spec, status);
    }

    /// <summary>The controller reference its objects carry: deleted with it, and found by it.</summary>
    public JsonObject OwnerReference() => new()
    {
        ["apiVersion"] = ResourceKind.TurbineModel.ApiVersion,
        ["kind"] = ResourceKind.TurbineModel.Kind,
        ["name"] = Name,
        ["uid"] = Uid,
        ["controller"] = true,
        ["blockOwnerDeletion"] = true,
    };
}

/// <summary>What the operator last reported about a model.</summary>
public sealed record TurbineModelStatus
{
    /// <summary>The generation of the spec the rest of the status describes.</summary>
    public long ObservedGeneration { get; init; }

    /// <summary>The registry reference being served.</summary>
    public string? Model { get; init; }

    public int Replicas { get; init; }

    public int ReadyReplicas { get; init; }

    public string? Url { get; init; }

    public IReadOnlyList<ModelCondition> Conditions { get; init; } = [];
}

/// <summary>A condition in the form of Kubernetes' own (<c>metav1.Condition</c>).</summary>
public sealed record ModelCondition
{
    public string Type { get; init; } = string.Empty;

    /// <summary><c>True</c>, <c>False</c> or <c>Unknown</c>.</summary>
    public string Status { get; init; } = string.Empty;

    public long ObservedGeneration { get; init; }

    /// <summary>When <see cref="Status"/> last changed (RFC 3339).</summary>
    public string LastTransitionTime { get; init; } = string.Empty;

    /// <summary>A CamelCase word for programs.</summary>
    public string Reason { get; init; } = string.Empty;

    /// <summary>A sentence for people.</summary>
    public string Message { get; init; } = string.Empty;
}
