namespace Turbine;

/// <summary>Turbine's one error vocabulary; each protocol maps it exactly once.</summary>
public enum StatusCode
{
    /// <summary>Success.</summary>
    Ok = 0,
    /// <summary>The request is malformed or does not match the model.</summary>
    InvalidArgument,
    /// <summary>The model, version or resource does not exist.</summary>
    NotFound,
    /// <summary>The model exists but cannot serve now (loading, unloading, failed).</summary>
    Unavailable,
    /// <summary>A queue or limit is full; retry later.</summary>
    ResourceExhausted,
    /// <summary>The request's deadline passed.</summary>
    DeadlineExceeded,
    /// <summary>The caller went away or the server is shutting down.</summary>
    Cancelled,
    /// <summary>No or bad credentials.</summary>
    Unauthenticated,
    /// <summary>Credentials do not allow the operation.</summary>
    PermissionDenied,
    /// <summary>A fault inside the server or backend.</summary>
    Internal,
    /// <summary>The resource is not in a state that allows the operation (a rolled-back canary cannot be promoted).</summary>
    FailedPrecondition,
}
