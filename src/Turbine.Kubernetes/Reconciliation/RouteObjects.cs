using System.Text.Json.Nodes;
using Turbine.Kubernetes.Cluster;
using Turbine.Kubernetes.Resources;

namespace Turbine.Kubernetes.Reconciliation;

/// <summary>
/// A Gateway API HTTPRoute per route of a model, as the ingress overlay's: the REST paths (KServe v2 and OpenAI) to
/// the Service's HTTP port, gRPC's service path to its h2c port.
/// </summary>
internal static class RouteObjects
{
    public static string Name(TurbineModel model, RouteSpec route) => $"{model.ObjectName}-{route.Name}";

    public static JsonObject HttpRoute(TurbineModel model, RouteSpec route)
    {
        var parent = new JsonObject { ["name"] = route.Gateway.Name };
        if (route.Gateway.Namespace is { } ns)
        {
            parent["namespace"] = ns;
        }

        if (route.Gateway.SectionName is { } section)
        {
            parent["sectionName"] = section;
        }

        var spec = new JsonObject
        {
            ["parentRefs"] = new JsonArray(parent),
            ["rules"] = new JsonArray(
                Rule(model, 8000, "/v2", "/v1"),
                Rule(model, 8001, "/inference.GRPCInferenceService")),
        };
        if (route.Hostnames.Count > 0)
        {
            spec["hostnames"] = new JsonArray([.. route.Hostnames.Select(h => (JsonNode?)JsonValue.Create(h))]);
        }

        return new JsonObject
        {
            ["apiVersion"] = ResourceKind.HttpRoute.ApiVersion,
            ["kind"] = ResourceKind.HttpRoute.Kind,
            ["metadata"] = ObjectMetadata.For(model, Name(model, route)),
            ["spec"] = spec,
        };
    }

    private static JsonObject Rule(TurbineModel model, int port, params string[] prefixes) => new()
    {
        ["matches"] = new JsonArray([.. prefixes.Select(p => (JsonNode?)new JsonObject
        {
            ["path"] = new JsonObject { ["type"] = "PathPrefix", ["value"] = p },
        })]),
        ["backendRefs"] = new JsonArray(new JsonObject { ["name"] = model.ObjectName, ["port"] = port }),
    };
}
