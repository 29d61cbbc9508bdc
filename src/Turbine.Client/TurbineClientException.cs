namespace Turbine.Client;

/// <summary>A call that the server refused or failed, with the server's own message.</summary>
public sealed class TurbineClientException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TurbineClientException(StatusCode code, string message, int? httpStatus = null)
        : base(message)
    {
        Code = code;
        HttpStatus = httpStatus;
    }

    /// <summary>Creates an exception with an internal code.</summary>
    public TurbineClientException()
        : this(StatusCode.Internal, "request failed")
    {
    }

    /// <summary>Creates an exception with an internal code and a message.</summary>
    public TurbineClientException(string message)
        : this(StatusCode.Internal, message)
    {
    }

    /// <summary>Creates an exception with an internal code, a message and a cause.</summary>
    public TurbineClientException(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = StatusCode.Internal;
    }

    /// <summary>The error kind.</summary>
    public StatusCode Code { get; }

    /// <summary>The HTTP status, when the call went over REST.</summary>
    public int? HttpStatus { get; }
}
