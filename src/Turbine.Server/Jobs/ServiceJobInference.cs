using Turbine.Core.Execution;
using Turbine.Jobs.Execution;
using Turbine.Traffic;

namespace Turbine.Server.Jobs;

/// <summary>Batch jobs' rows go through the inference service, so a job may name a model, a route or a pipeline.</summary>
public sealed class ServiceJobInference(InferenceService service) : IJobInference
{
    /// <inheritdoc />
    public InferenceError? Describe(string model, string? version, out ModelVersionInfo? info) => service.TryGetModel(model, version, out info);

    /// <inheritdoc />
    public ValueTask<InferenceResult> InferAsync(InferenceRequest request, CancellationToken cancellationToken) => service.InferAsync(request, cancellationToken);
}
