using System.Text.Json.Serialization;

namespace Turbine.Server.Dashboard;

/// <summary>What the dashboard shows at one instant: rates and latencies over the interval since the previous snapshot.</summary>
/// <param name="Time">When it was taken, in milliseconds since the Unix epoch.</param>
/// <param name="Server">The process and its totals.</param>
/// <param name="Models">Each loaded model version.</param>
/// <param name="Routes">Each route and its arms.</param>
/// <param name="Quality">Each data-quality rule: requests checked and broken since its version loaded.</param>
internal sealed record DashboardSnapshot(long Time, ServerFigures Server, IReadOnlyList<ModelFigures> Models, IReadOnlyList<RouteFigures> Routes, IReadOnlyList<QualityFigures> Quality);

/// <summary>The server as a whole over the last interval.</summary>
/// <param name="Ready">Whether it reports ready.</param>
/// <param name="UptimeSeconds">Seconds since the process started.</param>
/// <param name="CpuCores">Cores' worth of CPU the process used (1.5: one and a half cores busy).</param>
/// <param name="Cores">Cores the process may use.</param>
/// <param name="ResidentBytes">Resident memory.</param>
/// <param name="HeapBytes">The .NET heap.</param>
/// <param name="RequestsPerSecond">Successful and failed requests per second, every model together.</param>
/// <param name="ErrorsPerSecond">Failed requests per second.</param>
/// <param name="P50Ms">The median of the successful requests' latency; null without requests.</param>
/// <param name="P99Ms">Their 99th percentile; null without requests.</param>
/// <param name="VersionsReady">Model versions serving.</param>
/// <param name="ModelsNotServing">Models the server knows that serve no version: their load failed, or they were unloaded.</param>
/// <param name="Parts">The optional parts this server runs (<c>jobs</c>, <c>registry</c>), so the page shows only theirs.</param>
internal sealed record ServerFigures(
    bool Ready, double UptimeSeconds, double CpuCores, int Cores, long ResidentBytes, long HeapBytes,
    double RequestsPerSecond, double ErrorsPerSecond, double? P50Ms, double? P99Ms, int VersionsReady, int ModelsNotServing, IReadOnlyList<string> Parts);

/// <summary>One data-quality rule of a monitored version (docs/MONITORING.md).</summary>
/// <param name="Model">The model.</param>
/// <param name="Version">The version.</param>
/// <param name="Rule">The rule's name (<c>features[1]:range</c>).</param>
/// <param name="Policy">What a broken rule does: reject, flag or log.</param>
/// <param name="Checked">Requests checked.</param>
/// <param name="Broken">Requests that broke it.</param>
internal sealed record QualityFigures(string Model, string Version, string Rule, string Policy, long Checked, long Broken);

/// <summary>One model version over the last interval.</summary>
/// <param name="Name">The model.</param>
/// <param name="Version">The version.</param>
/// <param name="RequestsPerSecond">Requests per second.</param>
/// <param name="ErrorsPerSecond">Failed requests per second.</param>
/// <param name="P50Ms">Median latency of successful requests; null without any.</param>
/// <param name="P99Ms">99th percentile; null without any.</param>
/// <param name="Queued">Requests waiting now.</param>
/// <param name="Executing">Requests running now.</param>
/// <param name="Successes">Successful requests since the version loaded.</param>
/// <param name="Failures">Failed requests since the version loaded.</param>
internal sealed record ModelFigures(
    string Name, string Version, double RequestsPerSecond, double ErrorsPerSecond, double? P50Ms, double? P99Ms, int Queued, int Executing, long Successes, long Failures);

/// <summary>A route and its arms over the last interval.</summary>
/// <param name="Name">The route.</param>
/// <param name="Arms">Its variants.</param>
internal sealed record RouteFigures(string Name, IReadOnlyList<ArmFigures> Arms);

/// <summary>One arm of a route.</summary>
/// <param name="Variant">The variant's name (<c>model</c> or <c>model:version</c>).</param>
/// <param name="Weight">Its share of the route now, from 0 to 1.</param>
/// <param name="RequestsPerSecond">Requests the route sent it per second.</param>
/// <param name="Circuit">Its breaker's state (closed, open, half_open, isolated); null without a breaker.</param>
internal sealed record ArmFigures(string Variant, double Weight, double RequestsPerSecond, string? Circuit);

/// <summary>The dashboard's JSON: snake_case names, as the rest of Turbine's APIs.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(DashboardSnapshot))]
[JsonSerializable(typeof(IReadOnlyList<DashboardSnapshot>))]
internal sealed partial class DashboardJson : JsonSerializerContext;
