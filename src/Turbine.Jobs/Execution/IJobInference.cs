using Turbine.Core.Execution;

namespace Turbine.Jobs.Execution;

/// <summary>
/// The inference a job's rows go through: the server's inference service (routes, pipelines and models alike) in
/// whichever process runs the worker. Jobs only describe the target and send requests on the background lane.
/// </summary>
public interface IJobInference
{
    /// <summary>The configuration and version of the model (or route, or pipeline) a job names; an error when it is not there.</summary>
    InferenceError? Describe(string model, string? version, out ModelVersionInfo? info);

    /// <summary>Runs one request; failures are values.</summary>
    ValueTask<InferenceResult> InferAsync(InferenceRequest request, CancellationToken cancellationToken);
}
