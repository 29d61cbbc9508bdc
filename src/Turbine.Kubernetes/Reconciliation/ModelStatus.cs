using System.Globalization;
using System.Text.Json.Nodes;
using Turbine.Kubernetes.Cluster;
using Turbine.Kubernetes.Resources;

namespace Turbine.Kubernetes.Reconciliation;

/// <summary>
/// A model's status from its live Deployment: <c>Ready</c> once the rollout of the current spec is complete and a
/// replica answers (pods are ready only when their models answered the warm-up), <c>Reconciled</c> for whether its
/// objects are in step with its spec. A condition keeps its transition time while its status stays.
/// </summary>
internal static class ModelStatus
{
    public const string Ready = "Ready";
    public const string Reconciled = "Reconciled";

    public static TurbineModelStatus Applied(TurbineModel model, JsonObject deployment, int objects, DateTimeOffset now)
    {
        var spec = deployment["spec"] as JsonObject;
        var status = deployment["status"] as JsonObject;
        var wanted = (int)(KubeObject.Integer(spec?["replicas"]) ?? 1);
        var ready = (int)(KubeObject.Integer(status?["readyReplicas"]) ?? 0);
        var updated = KubeObject.Integer(status?["updatedReplicas"]) ?? 0;
        var available = KubeObject.Integer(status?["availableReplicas"]) ?? 0;
        var seen = KubeObject.Integer(status?["observedGeneration"]) ?? 0;
        var generation = KubeObject.Generation(deployment);
        var (isReady, reason, message) =
            seen < generation || updated < wanted ? (false, "RolloutInProgress", $"{updated} of {wanted} replicas run the current spec")
            : wanted == 0 ? (true, "ScaledToZero", "no replica runs; the autoscaler starts one when requests wait")
            : available > 0 ? (true, "Available", $"{ready} of {wanted} replicas ready")
            : (false, "Unavailable", "no replica is ready yet: a pod is ready once its model is loaded and warmed up");
        return new TurbineModelStatus
        {
            ObservedGeneration = model.Generation,
            Model = model.Spec.Model,
            Replicas = wanted,
            ReadyReplicas = ready,
            Url = model.Url,
            Conditions =
            [
                Condition(model, Ready, isReady, reason, message, now),
                Condition(model, Reconciled, true, "Applied", $"{objects} objects in step with the spec", now),
            ],
        };
    }

    /// <summary>The spec could not be applied: the objects are left as they were, the reason is said.</summary>
    public static TurbineModelStatus Failed(TurbineModel model, string reason, string message, DateTimeOffset now)
    {
        var ready = model.Status.Conditions.FirstOrDefault(c => c.Type == Ready)
            ?? Condition(model, Ready, null, "Unknown", "not reconciled yet", now);
        return model.Status with
        {
            ObservedGeneration = model.Generation,
            Conditions = [ready, Condition(model, Reconciled, false, reason, message, now)],
        };
    }

    private static ModelCondition Condition(TurbineModel model, string type, bool? isTrue, string reason, string message, DateTimeOffset now)
    {
        var status = isTrue switch { true => "True", false => "False", null => "Unknown" };
        var previous = model.Status.Conditions.FirstOrDefault(c => c.Type == type);
        return new ModelCondition
        {
            Type = type,
            Status = status,
            ObservedGeneration = model.Generation,
            LastTransitionTime = previous?.Status == status ? previous.LastTransitionTime : now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            Reason = reason,
            Message = message,
        };
    }
}
