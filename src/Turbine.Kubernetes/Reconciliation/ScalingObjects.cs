using System.Globalization;
using System.Text.Json.Nodes;
using Turbine.Kubernetes.Cluster;
using Turbine.Kubernetes.Resources;

namespace Turbine.Kubernetes.Reconciliation;

/// <summary>
/// The autoscaler of a model: an HPA v2 on the serving signal through the Prometheus adapter (deploy/kubernetes/
/// overlays/cpu/adapter-rules.yaml), or a KEDA ScaledObject on a Prometheus query, with the overlays' behaviour: fast
/// scale-up (double or 4 pods each 30 s), scale-down after the stabilization window and one pod a minute.
/// </summary>
internal static class ScalingObjects
{
    public static JsonObject HorizontalPodAutoscaler(TurbineModel model, AutoscalingSpec scaling) => new()
    {
        ["apiVersion"] = ResourceKind.HorizontalPodAutoscaler.ApiVersion,
        ["kind"] = ResourceKind.HorizontalPodAutoscaler.Kind,
        ["metadata"] = ObjectMetadata.For(model, model.ObjectName),
        ["spec"] = new JsonObject
        {
            ["scaleTargetRef"] = new JsonObject { ["apiVersion"] = ResourceKind.Deployment.ApiVersion, ["kind"] = ResourceKind.Deployment.Kind, ["name"] = model.ObjectName },
            ["minReplicas"] = scaling.MinReplicas,
            ["maxReplicas"] = scaling.MaxReplicas,
            ["metrics"] = new JsonArray(new JsonObject
            {
                ["type"] = "Pods",
                ["pods"] = new JsonObject
                {
                    ["metric"] = new JsonObject { ["name"] = ScalingMetrics.Gauge(scaling.Metric) },
                    ["target"] = new JsonObject { ["type"] = "AverageValue", ["averageValue"] = Quantity(scaling.Target) },
                },
            }),
            ["behavior"] = new JsonObject
            {
                ["scaleUp"] = new JsonObject
                {
                    ["stabilizationWindowSeconds"] = 0,
                    ["selectPolicy"] = "Max",
                    ["policies"] = new JsonArray(Policy("Percent", 100, 30), Policy("Pods", 4, 30)),
                },
                ["scaleDown"] = ScaleDown(scaling),
            },
        },
    };

    /// <summary>KEDA: the same signal summed over the model's pods, activating from zero on the first waiting request.</summary>
    public static JsonObject ScaledObject(TurbineModel model, AutoscalingSpec scaling) => new()
    {
        ["apiVersion"] = ResourceKind.ScaledObject.ApiVersion,
        ["kind"] = ResourceKind.ScaledObject.Kind,
        ["metadata"] = ObjectMetadata.For(model, model.ObjectName),
        ["spec"] = new JsonObject
        {
            ["scaleTargetRef"] = new JsonObject { ["name"] = model.ObjectName },
            ["pollingInterval"] = 15,
            ["cooldownPeriod"] = 300,
            ["minReplicaCount"] = scaling.MinReplicas,
            ["maxReplicaCount"] = scaling.MaxReplicas,
            ["advanced"] = new JsonObject
            {
                ["horizontalPodAutoscalerConfig"] = new JsonObject { ["behavior"] = new JsonObject { ["scaleDown"] = ScaleDown(scaling) } },
            },
            ["triggers"] = new JsonArray(new JsonObject
            {
                ["type"] = "prometheus",
                ["metadata"] = new JsonObject
                {
                    ["serverAddress"] = scaling.PrometheusAddress,
                    // The service label is the one the model's ServiceMonitor (spec.serviceMonitor) gives its series.
                    ["query"] = $"sum({ScalingMetrics.Gauge(scaling.Metric)}{{namespace=\"{model.Namespace}\",service=\"{model.ObjectName}\"}})",
                    ["threshold"] = Quantity(scaling.Target),
                    ["activationThreshold"] = "0",
                },
            }),
        },
    };

    private static JsonObject ScaleDown(AutoscalingSpec scaling) => new()
    {
        ["stabilizationWindowSeconds"] = scaling.ScaleDownStabilizationSeconds,
        ["selectPolicy"] = "Min",
        ["policies"] = new JsonArray(Policy("Pods", 1, 60)),
    };

    private static JsonObject Policy(string type, int value, int periodSeconds) =>
        new() { ["type"] = type, ["value"] = value, ["periodSeconds"] = periodSeconds };

    // The canonical form the API server gives back ("8", "2500m"), so a live object compares equal to the desired one.
    private static string Quantity(double value) =>
        new k8s.Models.ResourceQuantity(value.ToString("0.###", CultureInfo.InvariantCulture)).ToString();
}
