namespace Turbine.Kubernetes.Resources;

/// <summary>The <c>TurbineModel</c> CRD with its OpenAPI schema (deploy/kubernetes/operator/crd.yaml, embedded).</summary>
public static class CustomResourceDefinition
{
    public static string Yaml() => Reconciliation.BaseTemplates.Text("operator/crd.yaml");
}
