namespace Turbine.Onnx.Scanning;

/// <summary>
/// The limits and allowances of the model scan that runs before every session is created (and in
/// <c>turbine scan</c>). Bound from the server's <c>ModelScan</c> settings; the defaults admit every model ONNX
/// Runtime can serve from a normal export and refuse the hostile shapes of SECURITY.md.
/// </summary>
public sealed class ModelScanPolicy
{
    /// <summary>Operator domains ONNX Runtime implements itself, always allowed.</summary>
    public static IReadOnlyList<string> BuiltInDomains { get; } =
        ["", "ai.onnx", "ai.onnx.ml", "com.microsoft", "com.microsoft.nchwc", "com.ms.internal.nhwc"];

    /// <summary>Further operator domains to allow (custom operators a deployment provides).</summary>
    public List<string> AllowedDomains { get; set; } = [];

    /// <summary>The largest initializer, in declared bytes (2 GiB).</summary>
    public long MaxInitializerBytes { get; set; } = 2L << 30;

    /// <summary>All initializers together, in declared bytes (64 GiB).</summary>
    public long MaxTotalBytes { get; set; } = 64L << 30;

    /// <summary>Nodes in the model, subgraphs and local functions included.</summary>
    public int MaxNodes { get; set; } = 1_000_000;

    /// <summary>The longest chain of nodes in one graph.</summary>
    public int MaxGraphDepth { get; set; } = 100_000;

    /// <summary>How deep subgraphs (If branches, Loop and Scan bodies) may nest.</summary>
    public int MaxSubgraphDepth { get; set; } = 8;

    /// <summary>
    /// Finding kinds (<see cref="ScanFindingKinds"/>) that only warn here instead of blocking. An unreadable file and
    /// external data outside the version folder always block: ONNX Runtime would act on them.
    /// </summary>
    public List<string> WarnOnly { get; set; } = [];

    private static readonly string[] AlwaysBlocking = [ScanFindingKinds.Unreadable, ScanFindingKinds.ExternalData];

    internal bool AllowsDomain(string domain) => BuiltInDomains.Contains(domain) || AllowedDomains.Contains(domain);

    internal ScanVerdict VerdictFor(string kind, ScanVerdict verdict) =>
        verdict == ScanVerdict.Block && WarnOnly.Contains(kind) && !AlwaysBlocking.Contains(kind) ? ScanVerdict.Warn : verdict;

    /// <summary>Adds to <paramref name="errors"/> every setting that is out of range.</summary>
    public void Validate(List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (MaxInitializerBytes <= 0 || MaxTotalBytes <= 0 || MaxNodes <= 0 || MaxGraphDepth <= 0 || MaxSubgraphDepth < 0)
        {
            errors.Add("ModelScan: the caps must be positive (MaxSubgraphDepth may be 0)");
        }

        foreach (var kind in WarnOnly.Where(k => !ScanFindingKinds.All.Contains(k) || AlwaysBlocking.Contains(k)))
        {
            errors.Add($"ModelScan:WarnOnly: '{ClientText.Quote(kind)}' cannot be made a warning (kinds that can: {string.Join(", ", ScanFindingKinds.All.Except(AlwaysBlocking))})");
        }
    }
}
