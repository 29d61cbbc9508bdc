using System.Text.Json.Serialization;

namespace Turbine.Client;

/// <summary>A model's drift, per monitored version (<c>GET /v2/models/{m}/drift</c>).</summary>
/// <param name="Model">The model.</param>
/// <param name="Versions">Its monitored versions.</param>
public sealed record ModelDrift(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("versions")] IReadOnlyList<VersionDrift> Versions);

/// <summary>One version's drift over its window.</summary>
/// <param name="Version">The version.</param>
/// <param name="HasProfile">Whether it has a reference profile.</param>
/// <param name="Window">The window.</param>
/// <param name="Judged">Whether the window had enough rows to judge.</param>
/// <param name="DatasetDrift">Whether the share of drifted input features reached the threshold.</param>
/// <param name="DriftedShare">The share of drifted input features.</param>
/// <param name="PredictionDrift">Whether an output feature drifted.</param>
/// <param name="Features">Per-feature verdicts.</param>
/// <param name="Performance">The classifier's estimated and measured accuracy.</param>
/// <param name="Skipped">Features not monitored, with the reason.</param>
public sealed record VersionDrift(
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("has_profile")] bool HasProfile,
    [property: JsonPropertyName("window")] DriftWindow Window,
    [property: JsonPropertyName("judged")] bool Judged,
    [property: JsonPropertyName("dataset_drift")] bool DatasetDrift,
    [property: JsonPropertyName("drifted_share")] double DriftedShare,
    [property: JsonPropertyName("prediction_drift")] bool PredictionDrift,
    [property: JsonPropertyName("features")] IReadOnlyList<FeatureDriftView> Features,
    [property: JsonPropertyName("performance")] PerformanceView? Performance,
    [property: JsonPropertyName("skipped")] IReadOnlyList<string> Skipped);

/// <summary>A drift window.</summary>
/// <param name="Rows">Rows in it.</param>
/// <param name="MaxRows">Its row limit.</param>
/// <param name="Seconds">Its time limit (0: none).</param>
/// <param name="MinRows">Rows needed to judge.</param>
public sealed record DriftWindow(
    [property: JsonPropertyName("rows")] int Rows,
    [property: JsonPropertyName("max_rows")] int MaxRows,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("min_rows")] int MinRows);

/// <summary>One feature's drift.</summary>
/// <param name="Name">The feature.</param>
/// <param name="Source">input or output.</param>
/// <param name="Method">ks, wasserstein, psi, jensenshannon, chisquare or z.</param>
/// <param name="Score">The method's score.</param>
/// <param name="Threshold">Its level or threshold.</param>
/// <param name="Drifted">The verdict.</param>
/// <param name="Rows">Window rows with a value.</param>
/// <param name="MissingShare">The window's share of missing values.</param>
public sealed record FeatureDriftView(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("score")] double Score,
    [property: JsonPropertyName("threshold")] double Threshold,
    [property: JsonPropertyName("drifted")] bool Drifted,
    [property: JsonPropertyName("rows")] int Rows,
    [property: JsonPropertyName("missing_share")] double MissingShare);

/// <summary>A classifier's accuracy: estimated without labels, and measured from labels fed back.</summary>
/// <param name="EstimatedAccuracy">From the confidence over the window.</param>
/// <param name="Calibrated">Whether the reference's labels calibrated the estimate.</param>
/// <param name="ReferenceAccuracy">On the labelled reference.</param>
/// <param name="MeasuredAccuracy">Over the latest labels.</param>
/// <param name="Labelled">Labels in that measurement.</param>
public sealed record PerformanceView(
    [property: JsonPropertyName("estimated_accuracy")] double? EstimatedAccuracy,
    [property: JsonPropertyName("calibrated")] bool Calibrated,
    [property: JsonPropertyName("reference_accuracy")] double? ReferenceAccuracy,
    [property: JsonPropertyName("measured_accuracy")] double? MeasuredAccuracy,
    [property: JsonPropertyName("labelled")] int Labelled);

/// <summary>Attributed cost (<c>GET /v2/cost</c>).</summary>
/// <param name="Currency">The prices' currency.</param>
/// <param name="CoreHourPrice">A core-hour's price.</param>
/// <param name="CpuSeconds">The process's CPU time attributed.</param>
/// <param name="IdleCpuSeconds">CPU time without executions.</param>
/// <param name="Models">Per model version.</param>
/// <param name="Routes">Per route arm.</param>
/// <param name="Jobs">Per batch job.</param>
/// <param name="ApiKeys">Per API key.</param>
public sealed record CostView(
    [property: JsonPropertyName("currency")] string Currency,
    [property: JsonPropertyName("core_hour_price")] double CoreHourPrice,
    [property: JsonPropertyName("cpu_seconds")] double CpuSeconds,
    [property: JsonPropertyName("idle_cpu_seconds")] double IdleCpuSeconds,
    [property: JsonPropertyName("models")] IReadOnlyList<CostLineView> Models,
    [property: JsonPropertyName("routes")] IReadOnlyList<CostLineView> Routes,
    [property: JsonPropertyName("jobs")] IReadOnlyList<CostLineView> Jobs,
    [property: JsonPropertyName("api_keys")] IReadOnlyList<CostLineView> ApiKeys);

/// <summary>One consumer's cost; the name fields that apply are set.</summary>
/// <param name="Model">The model (model lines).</param>
/// <param name="Version">The version (model lines).</param>
/// <param name="Route">The route (route lines).</param>
/// <param name="Variant">The arm (route lines).</param>
/// <param name="Job">The job (job lines).</param>
/// <param name="ApiKey">The API key's name (key lines).</param>
/// <param name="Inferences">Inferences (model lines).</param>
/// <param name="Requests">Requests (other lines).</param>
/// <param name="CpuSeconds">CPU time attributed.</param>
/// <param name="GpuSeconds">GPU time.</param>
/// <param name="Cost">Its cost.</param>
/// <param name="CostPerThousand">Per thousand inferences or requests.</param>
public sealed record CostLineView(
    [property: JsonPropertyName("model")] string? Model,
    [property: JsonPropertyName("version")] string? Version,
    [property: JsonPropertyName("route")] string? Route,
    [property: JsonPropertyName("variant")] string? Variant,
    [property: JsonPropertyName("job")] string? Job,
    [property: JsonPropertyName("api_key")] string? ApiKey,
    [property: JsonPropertyName("inferences")] long Inferences,
    [property: JsonPropertyName("requests")] long Requests,
    [property: JsonPropertyName("cpu_seconds")] double CpuSeconds,
    [property: JsonPropertyName("gpu_seconds")] double GpuSeconds,
    [property: JsonPropertyName("cost")] double Cost,
    [property: JsonPropertyName("cost_per_1k")] double CostPerThousand);
