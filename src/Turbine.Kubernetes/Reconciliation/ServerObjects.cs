using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Turbine.Kubernetes.Resources;

namespace Turbine.Kubernetes.Reconciliation;

/// <summary>
/// The Deployment, Service and disruption budget of one model: the Kustomize base's, named and labelled for the model,
/// following its registry reference, sized by its spec.
/// </summary>
internal static class ServerObjects
{
    private const string DefaultImage = "ghcr.io/turbine/turbine:latest";
    private const string GpuImage = "ghcr.io/turbine/turbine:latest-gpu";

    public static JsonObject Deployment(TurbineModel model)
    {
        var spec = model.Spec;
        var deployment = BaseTemplates.Deployment();
        // Under an autoscaler the replica count is the autoscaler's: left out, the live one stays.
        deployment.Spec.Replicas = spec.Autoscaling is null ? spec.Replicas ?? 2 : null;
        deployment.Spec.Selector.MatchLabels = new Dictionary<string, string>(model.SelectorLabels);
        var pod = deployment.Spec.Template;
        pod.Metadata.Labels = new Dictionary<string, string>(model.SelectorLabels);
        // The namespace's default account: the pods call no API (no token is mounted) and need no account of their own.
        pod.Spec.ServiceAccountName = null;
        foreach (var spread in pod.Spec.TopologySpreadConstraints)
        {
            spread.LabelSelector.MatchLabels = new Dictionary<string, string>(model.SelectorLabels);
        }

        foreach (var volume in pod.Spec.Volumes.Where(v => v.Secret is not null))
        {
            volume.Secret.SecretName = spec.SecretName;
        }

        var container = pod.Spec.Containers.Single();
        container.Image = spec.Image ?? (spec.Gpus > 0 ? GpuImage : DefaultImage);
        container.Env = [.. container.Env, .. RegistryEnvironment(spec)];
        Size(container.Resources, spec);
        var item = ToJson(model, deployment);
        var podSpec = (JsonObject)item["spec"]!["template"]!["spec"]!;
        if (spec.Gpus > 0)
        {
            // As the gpu overlay: NVIDIA's runtime, GPU nodes only, their taint tolerated.
            podSpec["runtimeClassName"] = "nvidia";
            podSpec["nodeSelector"] = new JsonObject { ["nvidia.com/gpu.present"] = "true" };
            podSpec["tolerations"] = new JsonArray(new JsonObject { ["key"] = "nvidia.com/gpu", ["operator"] = "Exists", ["effect"] = "NoSchedule" });
        }
        else
        {
            // Explicit nulls: a model that had GPUs loses their scheduling fields on the next update.
            podSpec["runtimeClassName"] = null;
            podSpec["nodeSelector"] = null;
            podSpec["tolerations"] = null;
        }

        return item;
    }

    public static JsonObject Service(TurbineModel model)
    {
        var service = BaseTemplates.Service();
        service.Spec.Selector = new Dictionary<string, string>(model.SelectorLabels);
        return ToJson(model, service);
    }

    /// <summary>
    /// The disruption budget, only where at least two replicas are asked for: with one, "one available" would block
    /// every node drain.
    /// </summary>
    public static JsonObject? DisruptionBudget(TurbineModel model)
    {
        var fewest = model.Spec.Autoscaling?.MinReplicas ?? model.Spec.Replicas ?? 2;
        if (fewest < 2)
        {
            return null;
        }

        var budget = BaseTemplates.DisruptionBudget();
        budget.Spec.Selector.MatchLabels = new Dictionary<string, string>(model.SelectorLabels);
        return ToJson(model, budget);
    }

    /// <summary>The Prometheus operator's scrape of the pods' metrics port, as the base's ServiceMonitor.</summary>
    public static JsonObject ServiceMonitor(TurbineModel model) => new()
    {
        ["apiVersion"] = Cluster.ResourceKind.ServiceMonitor.ApiVersion,
        ["kind"] = Cluster.ResourceKind.ServiceMonitor.Kind,
        ["metadata"] = ObjectMetadata.For(model, model.ObjectName),
        ["spec"] = new JsonObject
        {
            ["selector"] = new JsonObject { ["matchLabels"] = ObjectMetadata.Labels(model.SelectorLabels) },
            ["endpoints"] = new JsonArray(new JsonObject { ["port"] = "metrics", ["path"] = "/metrics", ["interval"] = "15s" }),
        },
    };

    private static IEnumerable<V1EnvVar> RegistryEnvironment(TurbineModelSpec spec)
    {
        var registry = spec.Registry;
        yield return Value("TURBINE__REGISTRY__FOLLOW__0", spec.Model);
        yield return FromSecret("TURBINE__REGISTRY__POSTGRES", registry.SecretName, "registry-postgres");
        yield return Value("TURBINE__REGISTRY__S3BUCKET", registry.S3Bucket);
        if (registry.S3Endpoint is { } endpoint)
        {
            yield return Value("TURBINE__REGISTRY__S3ENDPOINT", endpoint);
        }

        if (registry.S3Prefix is { } prefix)
        {
            yield return Value("TURBINE__REGISTRY__S3PREFIX", prefix);
        }

        yield return FromSecret("AWS_ACCESS_KEY_ID", registry.SecretName, "aws-access-key-id");
        yield return FromSecret("AWS_SECRET_ACCESS_KEY", registry.SecretName, "aws-secret-access-key");
    }

    private static V1EnvVar Value(string name, string value) => new() { Name = name, Value = value };

    private static V1EnvVar FromSecret(string name, string secret, string key) =>
        new() { Name = name, ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = secret, Key = key } } };

    private static void Size(V1ResourceRequirements resources, TurbineModelSpec spec)
    {
        foreach (var (resource, quantity) in spec.Resources?.Requests ?? new Dictionary<string, string>())
        {
            resources.Requests[resource] = new ResourceQuantity(quantity);
        }

        foreach (var (resource, quantity) in spec.Resources?.Limits ?? new Dictionary<string, string>())
        {
            resources.Limits[resource] = new ResourceQuantity(quantity);
        }

        if (spec.Gpus > 0)
        {
            resources.Limits["nvidia.com/gpu"] = new ResourceQuantity(spec.Gpus.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    // Typed while edited; JSON once built, with the metadata every object of the model carries.
    private static JsonObject ToJson(TurbineModel model, object item)
    {
        var json = (JsonObject)JsonNode.Parse(KubernetesJson.Serialize(item))!;
        json["metadata"] = ObjectMetadata.For(model, model.ObjectName);
        return json;
    }
}
