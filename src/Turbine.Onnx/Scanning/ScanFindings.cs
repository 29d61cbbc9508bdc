namespace Turbine.Onnx.Scanning;

/// <summary>The findings of one scan as they are made, each given its verdict by the policy.</summary>
internal sealed class ScanFindings(ModelScanPolicy policy)
{
    private readonly List<ScanFinding> _findings = [];

    public ModelScanPolicy Policy => policy;

    public void Block(string kind, string subject, string message) => Add(kind, ScanVerdict.Block, subject, message);

    public void Warn(string kind, string subject, string message) => Add(kind, ScanVerdict.Warn, subject, message);

    public bool Any(string kind) => _findings.Exists(f => f.Kind == kind);

    /// <summary>The report: blocking findings first, each group in the order found.</summary>
    public ModelScanReport ToReport() => new([.. _findings.OrderByDescending(f => f.Verdict)]);

    private void Add(string kind, ScanVerdict verdict, string subject, string message) =>
        _findings.Add(new ScanFinding(kind, policy.VerdictFor(kind, verdict), ControlCharacters.Escape(subject), message));
}
