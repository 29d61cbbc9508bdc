using System.Text.Json.Nodes;
using Turbine.Kubernetes.Cluster;
using Turbine.Kubernetes.Resources;

namespace Turbine.Kubernetes.Reconciliation;

/// <summary>One object the operator wants to exist for a model.</summary>
public sealed record DesiredObject(ResourceKind Kind, JsonObject Item)
{
    public string Name => KubeObject.Name(Item);
}

/// <summary>Every object a valid <c>TurbineModel</c> is reconciled into.</summary>
public static class DesiredObjects
{
    public static IReadOnlyList<DesiredObject> For(TurbineModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var objects = new List<DesiredObject>
        {
            new(ResourceKind.Deployment, ServerObjects.Deployment(model)),
            new(ResourceKind.Service, ServerObjects.Service(model)),
        };
        if (ServerObjects.DisruptionBudget(model) is { } budget)
        {
            objects.Add(new(ResourceKind.PodDisruptionBudget, budget));
        }

        if (model.Spec.ServiceMonitor)
        {
            objects.Add(new(ResourceKind.ServiceMonitor, ServerObjects.ServiceMonitor(model)));
        }

        switch (model.Spec.Autoscaling)
        {
            case { Engine: AutoscalingEngines.Keda } keda:
                objects.Add(new(ResourceKind.ScaledObject, ScalingObjects.ScaledObject(model, keda)));
                break;
            case { } hpa:
                objects.Add(new(ResourceKind.HorizontalPodAutoscaler, ScalingObjects.HorizontalPodAutoscaler(model, hpa)));
                break;
        }

        foreach (var route in model.Spec.Routes)
        {
            objects.Add(new(ResourceKind.HttpRoute, RouteObjects.HttpRoute(model, route)));
        }

        return objects;
    }
}
