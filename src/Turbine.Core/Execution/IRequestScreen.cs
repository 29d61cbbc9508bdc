namespace Turbine.Core.Execution;

/// <summary>
/// Looks at each request after it has been validated against the version that will serve it and before it is
/// queued: data-quality rules hang here. Runs on the request path, so an implementation must be cheap and allocate
/// nothing for a request it lets through.
/// </summary>
public interface IRequestScreen
{
    /// <summary>Null to let the request through; the error to refuse it with otherwise.</summary>
    InferenceError? Screen(IVersionRunner runner, InferenceRequest request);
}
