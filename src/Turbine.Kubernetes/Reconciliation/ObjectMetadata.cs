using System.Text.Json.Nodes;
using Turbine.Kubernetes.Resources;

namespace Turbine.Kubernetes.Reconciliation;

/// <summary>The metadata of every object a model owns: its name, the model's labels and the controller reference.</summary>
internal static class ObjectMetadata
{
    public static JsonObject For(TurbineModel model, string name) => new()
    {
        ["name"] = name,
        ["namespace"] = model.Namespace,
        ["labels"] = Labels(model.Labels),
        ["ownerReferences"] = new JsonArray(model.OwnerReference()),
    };

    public static JsonObject Labels(IReadOnlyDictionary<string, string> labels)
    {
        var json = new JsonObject();
        foreach (var (key, value) in labels)
        {
            json[key] = value;
        }

        return json;
    }
}
