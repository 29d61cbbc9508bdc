using System.Globalization;
using System.Text.Json;

namespace Turbine.Client;

/// <summary>
/// Reads the lists of route and pipeline definitions. Definitions are open-ended (resilience, shadows, canary plans,
/// steps of many kinds), so they are summarized for listing and kept whole as JSON for editing and setting again.
/// </summary>
internal static class ControlPlaneReader
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 64 };

    public static IReadOnlyList<RouteSummary> Routes(byte[] json)
    {
        using var document = JsonDocument.Parse(json, Options);
        var routes = new List<RouteSummary>();
        foreach (var route in document.RootElement.EnumerateArray())
        {
            var variants = new List<RouteVariantSummary>();
            foreach (var variant in route.GetProperty("variants").EnumerateArray())
            {
                var model = variant.GetProperty("model").GetString()!;
                var version = variant.TryGetProperty("version", out var v) ? VersionText(v) : null;
                variants.Add(new RouteVariantSummary(version is null ? model : $"{model}:{version}", model, version, variant.GetProperty("weight").GetDouble()));
            }

            routes.Add(new RouteSummary(route.GetProperty("name").GetString()!, variants, route.GetRawText()));
        }

        return routes;
    }

    public static IReadOnlyList<PipelineSummary> Pipelines(byte[] json)
    {
        using var document = JsonDocument.Parse(json, Options);
        var pipelines = new List<PipelineSummary>();
        foreach (var pipeline in document.RootElement.EnumerateArray())
        {
            var steps = new List<string>();
            foreach (var step in pipeline.GetProperty("steps").EnumerateArray())
            {
                steps.Add($"{step.GetProperty("name").GetString()} ({KindOf(step)})");
            }

            pipelines.Add(new PipelineSummary(pipeline.GetProperty("name").GetString()!, steps, pipeline.GetRawText()));
        }

        return pipelines;
    }

    private static string KindOf(JsonElement step) =>
        step.TryGetProperty("aggregate", out _) ? "aggregate"
        : step.TryGetProperty("switch", out _) ? "switch"
        : step.TryGetProperty("cascade", out _) ? "cascade"
        : "model";

    private static string? VersionText(JsonElement version) => version.ValueKind switch
    {
        JsonValueKind.String => version.GetString(),
        JsonValueKind.Number => version.GetInt64().ToString(CultureInfo.InvariantCulture),
        _ => null,
    };
}
