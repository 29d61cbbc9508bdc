namespace Turbine;

/// <summary>
/// Sees a sample of completed requests: drift monitoring, data-quality rules and the dashboard hang off it. Observers
/// are called one observation at a time on the tap's own thread, never on a request's: a slow observer makes the tap
/// drop observations (and count them), never slows a request.
/// </summary>
public interface IInferenceObserver
{
    /// <summary>Whether this observer wants observations of <paramref name="model"/> (the model that answered, not the route).</summary>
    bool Wants(string model) => true;

    /// <summary>Sees one completed request. The tensors are the observation's and are released after the call: copy what you keep.</summary>
    void Observe(ObservedInference observation);
}

/// <summary>A completed request as the tap copied it: what went in and out, who answered it, and how long it took.</summary>
/// <param name="Time">When the request completed.</param>
/// <param name="Model">The model that answered (a route's variant, not the route).</param>
/// <param name="Version">The version that answered, when one did.</param>
/// <param name="Route">The route the client called, if any.</param>
/// <param name="Variant">The route's variant that served it, if any.</param>
/// <param name="RequestId">The request's id, if it had one.</param>
/// <param name="Inputs">Copies of the inputs.</param>
/// <param name="Outputs">Copies of the outputs (none when it failed).</param>
/// <param name="Duration">From the request's arrival at the service to its answer.</param>
/// <param name="Error">The error's status, when it failed.</param>
public sealed record ObservedInference(
    DateTimeOffset Time, string Model, string? Version, string? Route, string? Variant, string? RequestId,
    IReadOnlyList<Tensor> Inputs, IReadOnlyList<Tensor> Outputs, TimeSpan Duration, StatusCode? Error) : IDisposable
{
    /// <summary>Releases the copied tensors.</summary>
    public void Dispose()
    {
        foreach (var tensor in Inputs)
        {
            tensor.Dispose();
        }

        foreach (var tensor in Outputs)
        {
            tensor.Dispose();
        }
    }
}
