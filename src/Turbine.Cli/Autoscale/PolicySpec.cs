using System.Globalization;
using Turbine.Autoscaling;

namespace Turbine.Cli.Autoscale;

/// <summary>
/// A policy named on the command line (<c>hpa[:TARGET]</c>, <c>keda[:THRESHOLD]</c>, <c>kpa[:TARGET]</c>,
/// <c>predictive</c>, <c>fixed:N</c>), made fresh for each run (policies keep history), with the sync period it runs
/// at (Knative ticks every 2 s, the others every 15 s) and, for HPA and KEDA, the manifest that configures it. Targets
/// left out follow the replica: twice its slots in flight for HPA and KEDA (a short queue before scaling), its slots
/// for Knative's concurrency target.
/// </summary>
internal sealed record PolicySpec(string Kind, double Value, int MinReplicas, int MaxReplicas)
{
    public static PolicySpec? Parse(string text, int maxReplicas, ServiceModel service, List<string> errors)
    {
        var parts = text.Split(':', 2);
        double? value = parts.Length == 2 && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) && parsed > 0 ? parsed : null;
        if (parts.Length == 2 && value is null)
        {
            errors.Add($"--policy {text}: the value after ':' must be a positive number");
            return null;
        }

        switch (parts[0])
        {
            case "hpa":
                return new PolicySpec("hpa", value ?? 2 * service.Slots, 1, maxReplicas);
            case "keda":
                return new PolicySpec("keda", value ?? 2 * service.Slots, 0, maxReplicas);
            case "kpa":
                return new PolicySpec("kpa", value ?? service.Slots, 0, maxReplicas);
            case "predictive":
                return new PolicySpec("predictive", value ?? 0.7, 1, maxReplicas);
            case "fixed" when value is { } replicas:
                return new PolicySpec("fixed", Math.Round(replicas), (int)replicas, (int)replicas);
            default:
                errors.Add($"--policy must be hpa[:target], keda[:threshold], kpa[:target], predictive[:utilization] or fixed:N, not '{text}'");
                return null;
        }
    }

    public double SyncPeriodSeconds => Kind == "kpa" ? 2 : 15;

    public IScalingPolicy Create(FleetSettings fleet) => Kind switch
    {
        "hpa" => new HpaPolicy(new HpaSettings(Value, MinReplicas, MaxReplicas)),
        "keda" => new KedaPolicy(new KedaSettings(Value, MaxReplicas: MaxReplicas)),
        "kpa" => new KpaPolicy(new KpaSettings(Value, MaxReplicas: MaxReplicas)),
        "predictive" => new PredictivePolicy(new PredictiveSettings(fleet.Service, Value, fleet.ColdStartSeconds + fleet.ReadinessSeconds, MinReplicas, MaxReplicas)),
        _ => new FixedPolicy(MinReplicas),
    };

    /// <summary>The Kubernetes object that runs this policy on the Deployment <c>turbine</c>, or null for policies no controller ships.</summary>
    public string? Manifest() => Kind switch
    {
        "hpa" => string.Create(CultureInfo.InvariantCulture, $$"""
            # The HPA the simulator chose (turbine autoscale simulate): needs the Prometheus adapter's rules of
            # deploy/kubernetes/overlays/cpu/adapter-rules.yaml.
            apiVersion: autoscaling/v2
            kind: HorizontalPodAutoscaler
            metadata:
              name: turbine
              labels:
                app.kubernetes.io/name: turbine
            spec:
              scaleTargetRef:
                apiVersion: apps/v1
                kind: Deployment
                name: turbine
              minReplicas: {{MinReplicas}}
              maxReplicas: {{MaxReplicas}}
              metrics:
                - type: Pods
                  pods:
                    metric:
                      name: turbine_inference_executing_requests
                    target:
                      type: AverageValue
                      averageValue: "{{Value}}"
              behavior:
                scaleDown:
                  stabilizationWindowSeconds: 300
                  policies:
                    - type: Pods
                      value: 1
                      periodSeconds: 60

            """),
        "keda" => string.Create(CultureInfo.InvariantCulture, $$"""
            # The KEDA ScaledObject the simulator chose (turbine autoscale simulate).
            apiVersion: keda.sh/v1alpha1
            kind: ScaledObject
            metadata:
              name: turbine
              labels:
                app.kubernetes.io/name: turbine
            spec:
              scaleTargetRef:
                name: turbine
              pollingInterval: 15
              cooldownPeriod: 300
              minReplicaCount: 0
              maxReplicaCount: {{MaxReplicas}}
              triggers:
                - type: prometheus
                  metadata:
                    serverAddress: http://prometheus-operated.monitoring.svc:9090
                    query: sum(turbine_inference_pending_requests) + sum(turbine_inference_executing_requests)
                    threshold: "{{Value}}"
                    activationThreshold: "0"

            """),
        _ => null,
    };
}
