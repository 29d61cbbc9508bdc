namespace Turbine;

/// <summary>An expected failure on the request path: a value, not an exception.</summary>
/// <param name="Code">What kind of failure it is.</param>
/// <param name="Message">What was wrong and what was expected; never a stack trace or an internal path.</param>
public sealed record InferenceError(StatusCode Code, string Message)
{
    /// <summary>
    /// What the runtime said, for the server's log only: runtime messages name files, nodes and internals that
    /// clients must not see (SECURITY.md), so protocols send <see cref="Message"/> and never this.
    /// </summary>
    public string? Detail { get; init; }

    /// <summary>Creates an <see cref="StatusCode.InvalidArgument"/> error.</summary>
    public static InferenceError Invalid(string message) => new(StatusCode.InvalidArgument, message);

    /// <summary>Creates a <see cref="StatusCode.NotFound"/> error.</summary>
    public static InferenceError NotFound(string message) => new(StatusCode.NotFound, message);

    /// <summary>Creates an <see cref="StatusCode.Unavailable"/> error.</summary>
    public static InferenceError Unavailable(string message) => new(StatusCode.Unavailable, message);

    /// <summary>Creates an <see cref="StatusCode.Internal"/> error.</summary>
    public static InferenceError Internal(string message) => new(StatusCode.Internal, message);
}

/// <summary>Thrown where a failure crosses an API that cannot return <see cref="InferenceError"/> as a value.</summary>
public sealed class InferenceException : Exception
{
    /// <summary>Creates the exception from an error value.</summary>
    public InferenceException(InferenceError error)
        : base(error?.Message)
    {
        ArgumentNullException.ThrowIfNull(error);
        Error = error;
    }

    /// <summary>Creates an internal error exception.</summary>
    public InferenceException()
        : this(InferenceError.Internal("internal error"))
    {
    }

    /// <summary>Creates an invalid-argument exception with a message.</summary>
    public InferenceException(string message)
        : this(InferenceError.Invalid(message))
    {
    }

    /// <summary>Creates an invalid-argument exception with a message and a cause.</summary>
    public InferenceException(string message, Exception innerException)
        : base(message, innerException)
    {
        Error = InferenceError.Invalid(message);
    }

    /// <summary>The error carried.</summary>
    public InferenceError Error { get; }
}
