namespace Turbine.Core.Execution;

/// <summary>Either a response or an error: expected failures are values on the request path.</summary>
/// <param name="Response">The response; the caller disposes it.</param>
/// <param name="Error">The error, when there is no response.</param>
public readonly record struct InferenceResult(InferenceResponse? Response, InferenceError? Error)
{
    /// <summary>A failed result.</summary>
    public static InferenceResult Failed(InferenceError error) => new(null, error);

    /// <summary>A failed result.</summary>
    public static InferenceResult Failed(StatusCode code, string message) => new(null, new InferenceError(code, message));
}
