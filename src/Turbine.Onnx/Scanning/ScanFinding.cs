namespace Turbine.Onnx.Scanning;

/// <summary>What a finding does to the model: a blocked model never gets a session; a warning is reported and logged.</summary>
public enum ScanVerdict
{
    /// <summary>Reported, and the model still loads.</summary>
    Warn,

    /// <summary>The model is refused.</summary>
    Block,
}

/// <summary>One thing the scan found.</summary>
/// <param name="Kind">One of <see cref="ScanFindingKinds"/>.</param>
/// <param name="Verdict">Block or warn, after the policy's overrides.</param>
/// <param name="Subject">What it is about: an initializer, a node, a file relative to the version folder.</param>
/// <param name="Message">What is wrong, in words, with figures.</param>
public sealed record ScanFinding(string Kind, ScanVerdict Verdict, string Subject, string Message)
{
    /// <inheritdoc />
    public override string ToString() => $"{Kind} ({Subject}): {Message}";
}

/// <summary>The kinds of finding, as reports, logs and the policy's overrides name them.</summary>
public static class ScanFindingKinds
{
    /// <summary>The file is not an ONNX model, or nests deeper than the parser allows.</summary>
    public const string Unreadable = "unreadable";

    /// <summary>An external-data location outside the version folder, a link, or offsets past the end (SECURITY.md A6).</summary>
    public const string ExternalData = "external-data";

    /// <summary>A node in an operator domain that is not allowed.</summary>
    public const string CustomDomain = "custom-domain";

    /// <summary>An initializer declares more bytes than the per-initializer cap.</summary>
    public const string InitializerSize = "initializer-size";

    /// <summary>An initializer's shape and type declare a size its data does not hold (or a shape that is not a size).</summary>
    public const string DeclaredSize = "declared-size";

    /// <summary>The initializers together declare more than the model cap.</summary>
    public const string TotalSize = "total-size";

    /// <summary>More nodes than the cap, subgraphs included.</summary>
    public const string NodeCount = "node-count";

    /// <summary>A chain of nodes longer than the cap.</summary>
    public const string GraphDepth = "graph-depth";

    /// <summary>Subgraphs (If, Loop, Scan bodies) nested deeper than the cap.</summary>
    public const string SubgraphDepth = "subgraph-depth";

    /// <summary>Control characters or bidirectional overrides in names, metadata or string initializers.</summary>
    public const string ControlCharacters = "control-characters";

    /// <summary>A Python pickle (or a format built on one) in the version folder: loading it runs code.</summary>
    public const string Pickle = "pickle";

    /// <summary>A native executable, shared library or script in the version folder.</summary>
    public const string Executable = "executable";

    /// <summary>An archive in the version folder: it can hide anything, and Turbine never opens it.</summary>
    public const string Archive = "archive";

    /// <summary>A symbolic link in the version folder.</summary>
    public const string Link = "link";

    /// <summary>Every kind, in report order.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        Unreadable, ExternalData, CustomDomain, InitializerSize, DeclaredSize, TotalSize, NodeCount, GraphDepth, SubgraphDepth,
        ControlCharacters, Pickle, Executable, Archive, Link,
    ];
}

/// <summary>Everything the scan found in one model version.</summary>
/// <param name="Findings">Blocking findings first.</param>
public sealed record ModelScanReport(IReadOnlyList<ScanFinding> Findings)
{
    /// <summary>Whether any finding blocks the model.</summary>
    public bool Blocked => Findings.Any(f => f.Verdict == ScanVerdict.Block);

    /// <summary>The findings that only warn.</summary>
    public IEnumerable<ScanFinding> Warnings => Findings.Where(f => f.Verdict == ScanVerdict.Warn);
}
