namespace Turbine.Cli.Validation;

/// <summary>The classes of <c>turbine validate</c> failures; each failing class has its own exit code, for CI.</summary>
internal enum ValidationCheck
{
    /// <summary>The config disagrees with itself or the model file, or the model file cannot be read (exit 2).</summary>
    Config = 2,

    /// <summary>ONNX Runtime cannot create the session (an operator the provider or opset lacks) or a warm-up sample fails (exit 3).</summary>
    Load = 3,

    /// <summary>A golden case's outputs differ from the expected ones beyond the tolerances (exit 4).</summary>
    Golden = 4,

    /// <summary>The p99 latency at a batch size is over the budget (exit 5).</summary>
    Latency = 5,
}

/// <summary>One line of the report: a check, whether it passed, and what it found.</summary>
internal sealed record ValidationResult(ValidationCheck Check, bool Passed, string Detail)
{
    public override string ToString() => $"{Check.ToString().ToLowerInvariant(),-8} {(Passed ? "PASS" : "FAIL")}  {Detail}";
}
