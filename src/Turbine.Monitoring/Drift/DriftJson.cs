using System.Text.Json;

namespace Turbine.Monitoring.Drift;

/// <summary>The JSON form of drift reports, as <c>GET /v2/models/{m}/drift</c> answers (docs/MONITORING.md).</summary>
public static class DriftJson
{
    /// <summary>Writes the reports of a model's monitored versions.</summary>
    public static void Write(Utf8JsonWriter writer, string model, IReadOnlyList<DriftReport> reports)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(reports);
        writer.WriteStartObject();
        writer.WriteString("model", model);
        writer.WriteStartArray("versions");
        foreach (var report in reports)
        {
            WriteReport(writer, report);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteReport(Utf8JsonWriter writer, DriftReport report)
    {
        writer.WriteStartObject();
        writer.WriteString("version", report.Version);
        writer.WriteString("time", report.Time);
        writer.WriteBoolean("has_profile", report.HasProfile);
        writer.WriteStartObject("window");
        writer.WriteNumber("rows", report.WindowRows);
        writer.WriteNumber("max_rows", report.WindowCapacity);
        writer.WriteNumber("seconds", report.WindowTime.TotalSeconds);
        writer.WriteNumber("min_rows", report.MinRows);
        writer.WriteEndObject();
        writer.WriteBoolean("judged", report.Judged);
        if (report.Judged)
        {
            writer.WriteBoolean("dataset_drift", report.DatasetDrift);
            writer.WriteNumber("drifted_share", report.DriftedShare);
            writer.WriteNumber("drift_share_threshold", report.DriftShareThreshold);
            writer.WriteBoolean("prediction_drift", report.PredictionDrift);
        }

        writer.WriteStartArray("features");
        foreach (var feature in report.Features)
        {
            WriteFeature(writer, feature);
        }

        writer.WriteEndArray();
        if (report.Performance is { } performance)
        {
            writer.WriteStartObject("performance");
            Number(writer, "estimated_accuracy", performance.EstimatedAccuracy);
            writer.WriteBoolean("calibrated", performance.Calibrated);
            Number(writer, "reference_accuracy", performance.ReferenceAccuracy);
            Number(writer, "measured_accuracy", performance.MeasuredAccuracy);
            writer.WriteNumber("labelled", performance.Labelled);
            writer.WriteEndObject();
        }

        writer.WriteStartArray("skipped");
        foreach (var skipped in report.Skipped)
        {
            writer.WriteStringValue(skipped);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteFeature(Utf8JsonWriter writer, FeatureDrift feature)
    {
        writer.WriteStartObject();
        writer.WriteString("name", feature.Name);
        writer.WriteString("source", feature.IsOutput ? "output" : "input");
        writer.WriteString("method", feature.Method.Name());
        writer.WriteNumber("score", feature.Score);
        writer.WriteNumber("threshold", feature.Threshold);
        writer.WriteBoolean("drifted", feature.Drifted);
        writer.WriteNumber("rows", feature.Rows);
        writer.WriteNumber("missing_share", feature.MissingShare);
        writer.WriteNumber("reference_missing_share", feature.ReferenceMissingShare);
        writer.WriteStartObject("statistics");
        writer.WriteNumber("psi", feature.PopulationStability);
        writer.WriteNumber("jensenshannon", feature.JensenShannon);
        Number(writer, "ks", feature.KolmogorovSmirnov);
        Number(writer, "ks_p_value", feature.KolmogorovSmirnovP);
        Number(writer, "wasserstein", feature.Wasserstein);
        Number(writer, "chisquare_p_value", feature.ChiSquareP);
        Number(writer, "z_p_value", feature.ProportionZP);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void Number(Utf8JsonWriter writer, string name, double? value)
    {
        if (value is { } number && double.IsFinite(number))
        {
            writer.WriteNumber(name, number);
        }
    }
}
