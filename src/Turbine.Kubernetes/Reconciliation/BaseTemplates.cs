using k8s;
using k8s.Models;

namespace Turbine.Kubernetes.Reconciliation;

/// <summary>The Kustomize base's Deployment, Service and disruption budget (deploy/kubernetes/base), embedded.</summary>
internal static class BaseTemplates
{
    public static V1Deployment Deployment() => Load<V1Deployment>("base/deployment.yaml");

    public static V1Service Service() => Load<V1Service>("base/service.yaml");

    public static V1PodDisruptionBudget DisruptionBudget() => Load<V1PodDisruptionBudget>("base/poddisruptionbudget.yaml");

    /// <summary>The text of an embedded file.</summary>
    public static string Text(string name)
    {
        using var stream = typeof(BaseTemplates).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"the operator's assembly lacks its resource {name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    // Parsed on every call: each reconcile edits its own copy.
    private static T Load<T>(string name) => KubernetesYaml.Deserialize<T>(Text(name));
}
