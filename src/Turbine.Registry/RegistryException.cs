namespace Turbine.Registry;

/// <summary>A registry operation that cannot be done, with the reason in words fit for a client.</summary>
public sealed class RegistryException : Exception
{
    public RegistryException(string message)
        : base(message)
    {
    }

    public RegistryException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public RegistryException()
    {
    }

    /// <summary>Whether the thing asked for does not exist (a 404, where other failures are 400 or 409).</summary>
    public bool NotFound { get; init; }
}
