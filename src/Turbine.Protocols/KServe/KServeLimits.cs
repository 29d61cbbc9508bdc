namespace Turbine.Protocols.KServe;

/// <summary>Limits applied while decoding, before anything is allocated (SECURITY.md A8, A11).</summary>
/// <param name="MaxTensorBytes">The largest tensor a request may carry.</param>
/// <param name="MaxJsonDepth">The deepest JSON nesting accepted.</param>
public sealed record KServeLimits(long MaxTensorBytes = 64L * 1024 * 1024, int MaxJsonDepth = 64)
{
    /// <summary>The defaults: 64 MiB tensors, JSON depth 64.</summary>
    public static KServeLimits Default { get; } = new();
}
