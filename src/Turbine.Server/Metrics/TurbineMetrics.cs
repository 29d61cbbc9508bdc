using System.Diagnostics.Metrics;
using Turbine.Core.Execution;

namespace Turbine.Server.Metrics;

/// <summary>
/// Turbine's instruments (System.Diagnostics.Metrics), observed from each loaded model version's statistics at
/// collection time, so the request path pays nothing extra. Labels are model names and versions that exist,
/// never raw request input (SECURITY.md A14). Queue time and compute time are separate series.
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
        Counter("turbine_inference_request_duration_us", "Cumulative end-to-end request time, microseconds", s => s.Success.Nanoseconds / 1000);
        Counter("turbine_inference_queue_duration_us", "Cumulative time requests waited in the queue, microseconds", s => s.Queue.Nanoseconds / 1000);
        Counter("turbine_inference_compute_infer_duration_us", "Cumulative model execution time, microseconds", s => s.ComputeInfer.Nanoseconds / 1000);
        Counter("turbine_inference_compute_output_duration_us", "Cumulative output copy time, microseconds", s => s.ComputeOutput.Nanoseconds / 1000);
    }

    public void Dispose() => _meter.Dispose();

    private void Counter(string name, string description, Func<ModelStatistics, long> read) =>
        _meter.CreateObservableCounter(name, () => Observe(read), description: description);

    private IEnumerable<Measurement<long>> Observe(Func<ModelStatistics, long> read)
    {
        _inference.Statistics(null, null, out var models);
        foreach (var model in models)
        {
            yield return new Measurement<long>(read(model.Statistics), new("model", model.Config.Name), new("version", model.Version));
        }
    }
}
