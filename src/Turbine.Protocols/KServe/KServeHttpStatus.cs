namespace Turbine.Protocols.KServe;

/// <summary>The HTTP status a KServe REST answer carries for each <see cref="StatusCode"/>, in one place for every host (the server, the edge build).</summary>
public static class KServeHttpStatus
{
    public static int Of(StatusCode code) => code switch
    {
        StatusCode.Ok => 200,
        StatusCode.InvalidArgument => 400,
        StatusCode.NotFound => 404,
        StatusCode.Unavailable => 503,
        StatusCode.ResourceExhausted => 429,
        StatusCode.DeadlineExceeded => 504,
        StatusCode.Cancelled => 503,
        StatusCode.Unauthenticated => 401,
        StatusCode.PermissionDenied => 403,
        StatusCode.FailedPrecondition => 409,
        _ => 500,
    };
}
