using System.Diagnostics.Metrics;
using Turbine.Core.Execution;
using Turbine.Traffic;

namespace Turbine.Server.Metrics;

/// <summary>
/// Turbine's counters and gauges as System.Diagnostics.Metrics instruments (meter <c>Turbine</c>), for
/// OpenTelemetry and <c>dotnet-counters</c>. They are observed from each loaded model version's statistics at
/// collection time, so the request path pays nothing extra. The Prometheus endpoint renders the same statistics
/// itself (<see cref="PrometheusExporter"/>), because it also needs their histograms. Labels are model names and
/// versions that exist, never raw request input (SECURITY.md A14).
/// </summary>
internal sealed class TurbineMetrics : IDisposable
{
    public const string MeterName = "Turbine";
    private readonly InferenceService _inference;
    private readonly Meter _meter = new(MeterName);

    public TurbineMetrics(InferenceService inference)
    {
        _inference = inference;
        Counter("turbine_inference_request_success", "Successful inference requests", s => s.Success.Count);
        Counter("turbine_inference_request_failure", "Failed inference requests", s => s.Fail.Count);
        Counter("turbine_inference_count", "Inferences performed (a batch of N counts N)", s => s.InferenceCount);
        Counter("turbine_inference_exec_count", "Model executions (a batch counts 1)", s => s.ExecutionCount);
        Counter("turbine_inference_queue_duration", "Cumulative time requests waited in the queue", s => s.Queue.Nanoseconds, "ns");
        Counter("turbine_inference_compute_infer_duration", "Cumulative model execution time", s => s.ComputeInfer.Nanoseconds, "ns");
        _meter.CreateObservableGauge("turbine_inference_pending_requests", () => Observe(m => m.QueuedRequests), description: "Requests waiting in the queue");
        _meter.CreateObservableGauge("turbine_inference_executing_requests", () => Observe(m => m.ExecutingRequests), description: "Requests inside a model execution");
    }

    public void Dispose() => _meter.Dispose();

    private void Counter(string name, string description, Func<ModelStatistics, long> read, string? unit = null) =>
        _meter.CreateObservableCounter(name, () => Observe(m => read(m.Statistics)), unit, description);

    private IEnumerable<Measurement<long>> Observe(Func<ModelVersionInfo, long> read)
    {
        _inference.Statistics(null, null, out var models);
        foreach (var model in models)
        {
            yield return new Measurement<long>(read(model), new("model", model.Config.Name), new("version", model.Version));
        }
    }
}
