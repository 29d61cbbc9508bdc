using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Turbine.Monitoring;
using Turbine.Monitoring.Cost;
using Turbine.Monitoring.Drift;
using Turbine.Protocols.KServe;
using Turbine.Server.Hosting;
using Turbine.Traffic;

namespace Turbine.Server.Http;

/// <summary>Monitoring (docs/MONITORING.md): drift per model, feedback with labels and outcomes, and cost.</summary>
internal static partial class RepositoryHttpEndpoints
{
    private static void MapMonitoring(IEndpointRouteBuilder app)
    {
        // Drift sits with the model endpoints (as statistics do): API keys apply, the management token does not.
        app.MapGet("/v2/models/{name}/drift", (HttpContext context, string name, MonitoringHub hub) =>
            GuardedAsync(context, MaxSmallBody, controlPlane: false, _ =>
            {
                var version = context.Request.Query["version"].ToString() is { Length: > 0 } asked ? asked : null;
                var reports = hub.Reports(name, version);
                return Task.FromResult(reports.Count == 0
                    ? Reply.Of(InferenceError.NotFound(version is null
                        ? $"model '{ClientText.Quote(name)}' is not monitored (no loaded version has a profile, a probabilities output or quality rules)"
                        : $"version '{ClientText.Quote(version)}' of model '{ClientText.Quote(name)}' is not monitored"))
                    : Reply.Of(w =>
                    {
                        using var writer = new Utf8JsonWriter(w, KServeJson.WriterOptions);
                        DriftJson.Write(writer, name, reports);
                    }));
            }));

        // Feedback comes from applications, not operators: it sits with the model endpoints (API keys apply), not the control plane.
        app.MapPost("/v2/models/{name}/feedback", (HttpContext context, string name, RouteTable routes, MonitoringHub hub, IOptions<TurbineServerOptions> options) =>
            GuardedAsync(context, MaxSmallBody, controlPlane: false, body => Task.FromResult(
                RecordFeedback(name, body.Span, routes, hub, options.Value.MaxJsonDepth) is { } error ? Reply.Of(error) : Reply.Of(EmptyObject))));

        app.MapGet("/v2/cost", (HttpContext context, IServiceProvider services, MonitoringHub hub, RouteTable routes) =>
            GuardedAsync(context, MaxSmallBody, _ => Task.FromResult(services.GetService<CostLedger>() is not { } ledger
                ? Reply.Of(InferenceError.NotFound("cost attribution is off (Turbine:Cost:Enabled)"))
                : Reply.Of(w =>
                {
                    using var writer = new Utf8JsonWriter(w, KServeJson.WriterOptions);
                    CostJson.Write(writer, ledger.Report(), hub, routes);
                }))));
    }

    /// <summary>
    /// Feedback for a route (conversions and values per arm, docs/TRAFFIC.md) or a monitored model (outcomes beside its
    /// cost); a <c>label</c> is scored against the class predicted for the request id, for the measured accuracy.
    /// </summary>
    private static InferenceError? RecordFeedback(string name, ReadOnlySpan<byte> body, RouteTable routes, MonitoringHub hub, int maxDepth)
    {
        string? id = null, label = null;
        bool? converted;
        double? value;
        try
        {
            using var document = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { MaxDepth = maxDepth });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return InferenceError.Invalid("feedback must be a JSON object");
            }

            id = root.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.String ? idElement.GetString() : null;
            label = root.TryGetProperty("label", out var labelElement) ? LabelText(labelElement) : null;
            converted = root.TryGetProperty("converted", out var c) && c.ValueKind is JsonValueKind.True or JsonValueKind.False ? c.GetBoolean() : null;
            value = root.TryGetProperty("value", out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var number) && double.IsFinite(number) ? number : null;
            if (labelElement.ValueKind != JsonValueKind.Undefined && label is null)
            {
                return InferenceError.Invalid("feedback 'label' must be a class name (string) or index (integer)");
            }
        }
        catch (JsonException)
        {
            return InferenceError.Invalid("feedback is not valid JSON");
        }

        if (label is not null && id is null)
        {
            return InferenceError.Invalid("feedback with a 'label' needs the request's 'id'");
        }

        if (routes.TryGet(name, out var route))
        {
            var labelled = label is not null && hub.RecordLabel(id!, label);
            if (converted is null && value is null && label is not null)
            {
                return labelled ? null : UnknownPrediction(id!, name);
            }

            return RouteReport.RecordFeedback(route, body, maxDepth);
        }

        if (!hub.IsMonitored(name))
        {
            return InferenceError.NotFound($"'{ClientText.Quote(name)}' is neither a route nor a monitored model");
        }

        if (label is null && converted is null && value is null)
        {
            return InferenceError.Invalid("feedback needs a 'label', 'converted' (true or false) or a finite numeric 'value'");
        }

        if (label is not null && !hub.RecordLabel(name, id!, label))
        {
            return UnknownPrediction(id!, name);
        }

        if (converted is not null || value is not null)
        {
            hub.RecordOutcome(name, converted, value);
        }

        return null;
    }

    private static InferenceError UnknownPrediction(string id, string name) => InferenceError.NotFound(
        $"no observed prediction of '{ClientText.Quote(name)}' has request id '{ClientText.Quote(id)}' (only sampled requests are remembered: Turbine:Observer:SampleRate)");

    private static string? LabelText(JsonElement label) => label.ValueKind switch
    {
        JsonValueKind.String => label.GetString(),
        JsonValueKind.Number when label.TryGetInt32(out var index) && index >= 0 => index.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => null,
    };
}

/// <summary>The JSON form of <c>GET /v2/cost</c>: the ledger's lines, with the business outcomes fed back beside them.</summary>
internal static class CostJson
{
    public static void Write(Utf8JsonWriter writer, CostReport report, MonitoringHub hub, RouteTable routes)
    {
        writer.WriteStartObject();
        writer.WriteString("currency", report.Currency);
        writer.WriteNumber("core_hour_price", report.CoreHourPrice);
        writer.WriteNumber("gpu_hour_price", report.GpuHourPrice);
        writer.WriteNumber("cpu_seconds", report.CpuSeconds);
        writer.WriteNumber("idle_cpu_seconds", report.IdleCpuSeconds);
        writer.WriteStartArray("models");
        foreach (var line in report.Versions)
        {
            writer.WriteStartObject();
            writer.WriteString("model", line.Name);
            writer.WriteString("version", line.Detail);
            Figures(writer, line, "inferences");
            if (hub.Outcomes.TryGetValue(line.Name, out var outcomes))
            {
                var (trials, conversions, values, sum) = outcomes.Snapshot();
                Business(writer, trials, conversions, values, values == 0 ? 0 : sum / values);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteStartArray("routes");
        foreach (var line in report.Arms)
        {
            writer.WriteStartObject();
            writer.WriteString("route", line.Name);
            writer.WriteString("variant", line.Detail);
            Figures(writer, line, "requests");
            if (routes.TryGet(line.Name, out var route) && route.Definition.Variants.ToList().FindIndex(v => v.Name == line.Detail) is var arm and >= 0)
            {
                var (trials, successes, count, mean, _) = route.Experiment.Arm(arm).Snapshot();
                Business(writer, trials, successes, count, mean);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        Lines(writer, "jobs", "job", report.Jobs);
        Lines(writer, "api_keys", "api_key", report.ApiKeys);
        writer.WriteEndObject();
    }

    private static void Lines(Utf8JsonWriter writer, string property, string name, IReadOnlyList<CostLine> lines)
    {
        writer.WriteStartArray(property);
        foreach (var line in lines)
        {
            writer.WriteStartObject();
            writer.WriteString(name, line.Name);
            Figures(writer, line, "requests");
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static void Figures(Utf8JsonWriter writer, CostLine line, string countName)
    {
        writer.WriteNumber(countName, line.Count);
        writer.WriteNumber("cpu_seconds", line.CpuSeconds);
        writer.WriteNumber("gpu_seconds", line.GpuSeconds);
        writer.WriteNumber("cost", line.Cost);
        writer.WriteNumber("cost_per_1k", line.CostPerThousand);
    }

    private static void Business(Utf8JsonWriter writer, long trials, long conversions, long values, double mean)
    {
        writer.WriteStartObject("feedback");
        writer.WriteNumber("trials", trials);
        writer.WriteNumber("conversions", conversions);
        writer.WriteNumber("conversion_rate", trials == 0 ? 0 : (double)conversions / trials);
        writer.WriteNumber("values", values);
        writer.WriteNumber("value_mean", mean);
        writer.WriteEndObject();
    }
}
