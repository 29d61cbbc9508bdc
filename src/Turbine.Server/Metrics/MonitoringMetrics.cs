using Turbine.Monitoring;
using Turbine.Monitoring.Cost;
using Turbine.Monitoring.Drift;

namespace Turbine.Server.Metrics;

/// <summary>
/// The monitoring families of <c>/metrics</c> (docs/MONITORING.md): drift per feature and per version, the
/// classifier's estimated and measured accuracy, data-quality checks, cost, and each model's latency target for the
/// alert rules. Feature and rule labels come from the profile and the configuration, never from requests.
/// </summary>
internal static class MonitoringMetrics
{
    public static void Write(PrometheusTextWriter writer, IReadOnlyList<ModelVersionInfo> models, MonitoringHub hub, CostLedger? costs)
    {
        var monitors = hub.Monitors;
        WriteLatencyTargets(writer, models, hub);
        var reports = monitors.Where(m => m.Observes).Select(m => m.Report()).ToList();
        WriteDrift(writer, reports);
        WritePerformance(writer, reports);
        WriteQuality(writer, monitors);
        if (costs is not null)
        {
            WriteCosts(writer, costs.Report());
        }
    }

    private static void WriteLatencyTargets(PrometheusTextWriter writer, IReadOnlyList<ModelVersionInfo> models, MonitoringHub hub)
    {
        writer.Family("turbine_model_latency_target_seconds", "gauge", "The p99 latency a model version should keep (monitoring.latency_target_ms, else dynamic_batching.max_latency_ms).");
        foreach (var model in models)
        {
            var target = hub.Find(model.Config.Name, model.Version)?.Settings.LatencyTarget is { TotalSeconds: > 0 } set
                ? set.TotalSeconds
                : (model.Config.DynamicBatching?.MaxLatencyMilliseconds ?? 0) / 1000;
            if (target > 0)
            {
                writer.Sample("turbine_model_latency_target_seconds", Labels(model.Config.Name, model.Version), target);
            }
        }
    }

    private static void WriteDrift(PrometheusTextWriter writer, List<DriftReport> reports)
    {
        writer.Family("turbine_drift_window_rows", "gauge", "Rows in the version's drift window.");
        foreach (var report in reports)
        {
            writer.Sample("turbine_drift_window_rows", Labels(report.Model, report.Version), report.WindowRows);
        }

        writer.Family("turbine_drift_score", "gauge", "A feature's drift score by its method (a p-value for ks, chisquare and z; a distance otherwise).");
        foreach (var report in reports)
        {
            foreach (var feature in report.Features)
            {
                writer.Sample("turbine_drift_score", [("model", report.Model), ("version", report.Version), ("feature", feature.Name), ("method", feature.Method.Name())], feature.Score);
            }
        }

        writer.Family("turbine_drift_detected", "gauge", "Whether a feature drifted over the window (1) or not (0).");
        foreach (var report in reports)
        {
            foreach (var feature in report.Features)
            {
                writer.Sample("turbine_drift_detected", [("model", report.Model), ("version", report.Version), ("feature", feature.Name)], feature.Drifted ? 1 : 0);
            }
        }

        Gauge("turbine_drift_share", "The share of input features that drifted.", r => r.DriftedShare);
        Gauge("turbine_dataset_drift", "Whether the share of drifted input features reached the configured share (1) or not (0).", r => r.DatasetDrift ? 1 : 0);
        Gauge("turbine_prediction_drift", "Whether an output feature drifted (1) or not (0).", r => r.PredictionDrift ? 1 : 0);

        void Gauge(string name, string help, Func<DriftReport, double> read)
        {
            writer.Family(name, "gauge", help);
            foreach (var report in reports.Where(r => r.Judged))
            {
                writer.Sample(name, Labels(report.Model, report.Version), read(report));
            }
        }
    }

    private static void WritePerformance(PrometheusTextWriter writer, List<DriftReport> reports)
    {
        Gauge("turbine_estimated_accuracy", "The classifier's accuracy estimated from its confidence over the window (no labels needed).", p => p.EstimatedAccuracy);
        Gauge("turbine_measured_accuracy", "The classifier's accuracy over the latest labels fed back.", p => p.MeasuredAccuracy ?? double.NaN);
        Gauge("turbine_reference_accuracy", "The classifier's accuracy on the labelled reference data.", p => p.ReferenceAccuracy ?? double.NaN);

        void Gauge(string name, string help, Func<PerformanceEstimate, double> read)
        {
            writer.Family(name, "gauge", help);
            foreach (var report in reports)
            {
                if (report.Performance is { } performance && read(performance) is var value && double.IsFinite(value))
                {
                    writer.Sample(name, Labels(report.Model, report.Version), value);
                }
            }
        }
    }

    private static void WriteQuality(PrometheusTextWriter writer, IReadOnlyList<VersionMonitor> monitors)
    {
        writer.Family("turbine_quality_checks_total", "counter", "Requests checked by a data-quality rule.");
        foreach (var monitor in monitors)
        {
            foreach (var check in monitor.Quality.Checks)
            {
                writer.Sample("turbine_quality_checks_total", RuleLabels(monitor, check), check.Checked);
            }
        }

        writer.Family("turbine_quality_violations_total", "counter", "Requests that broke a data-quality rule (refused, flagged or logged by its policy).");
        foreach (var monitor in monitors)
        {
            foreach (var check in monitor.Quality.Checks)
            {
                writer.Sample("turbine_quality_violations_total", RuleLabels(monitor, check), check.Broken);
            }
        }
    }

    private static void WriteCosts(PrometheusTextWriter writer, CostReport report)
    {
        writer.Family("turbine_cost_core_hour_price", "gauge", $"The configured price of a core-hour ({report.Currency}).");
        writer.Sample("turbine_cost_core_hour_price", [("currency", report.Currency)], report.CoreHourPrice);
        writer.Family("turbine_cost_gpu_hour_price", "gauge", $"The configured price of a GPU-hour ({report.Currency}).");
        writer.Sample("turbine_cost_gpu_hour_price", [("currency", report.Currency)], report.GpuHourPrice);
        writer.Family("turbine_cost_process_cpu_seconds_total", "counter", "The process's CPU time since the cost ledger started (what is attributed).");
        writer.Sample("turbine_cost_process_cpu_seconds_total", [], report.CpuSeconds);
        writer.Family("turbine_cost_idle_cpu_seconds_total", "counter", "CPU time in intervals without any model execution.");
        writer.Sample("turbine_cost_idle_cpu_seconds_total", [], report.IdleCpuSeconds);
        Lines("turbine_cost_cpu_seconds_total", "CPU time attributed to a model version.", report.Versions, l => l.CpuSeconds, "model", "version");
        Lines("turbine_cost_gpu_seconds_total", "GPU time of a model version (its executions on GPU instances).", report.Versions, l => l.GpuSeconds, "model", "version");
        Lines("turbine_cost_total", $"What a model version's CPU and GPU time cost at the configured prices ({report.Currency}).", report.Versions, l => l.Cost, "model", "version");
        Lines("turbine_cost_per_1k_inferences", $"A model version's cost per thousand inferences so far ({report.Currency}).", report.Versions, l => l.CostPerThousand, "model", "version", "gauge");
        Lines("turbine_cost_route_cpu_seconds_total", "CPU time attributed to a route's arm.", report.Arms, l => l.CpuSeconds, "route", "variant");
        Lines("turbine_cost_api_key_cpu_seconds_total", "CPU time attributed to the requests of an API key.", report.ApiKeys, l => l.CpuSeconds, "api_key", null);

        void Lines(string name, string help, IReadOnlyList<CostLine> lines, Func<CostLine, double> read, string first, string? second, string type = "counter")
        {
            writer.Family(name, type, help);
            foreach (var line in lines)
            {
                if (second is null)
                {
                    writer.Sample(name, [(first, line.Name)], read(line));
                }
                else
                {
                    writer.Sample(name, [(first, line.Name), (second, line.Detail)], read(line));
                }
            }
        }
    }

    private static (string, string)[] Labels(string model, string version) => [("model", model), ("version", version)];

    private static (string, string)[] RuleLabels(VersionMonitor monitor, Turbine.Monitoring.Quality.QualityRuleCheck check) =>
        [("model", monitor.Model), ("version", monitor.Version), ("rule", check.Name), ("policy", PolicyName(check.Policy))];

    private static string PolicyName(Turbine.Monitoring.Quality.QualityPolicy policy) => policy switch
    {
        Turbine.Monitoring.Quality.QualityPolicy.Reject => "reject",
        Turbine.Monitoring.Quality.QualityPolicy.Flag => "flag",
        _ => "log",
    };
}
