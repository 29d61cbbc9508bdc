namespace Turbine.Cli.Bench;

/// <summary>How arrivals are spaced in open-loop mode.</summary>
internal enum Arrivals
{
    /// <summary>Exponential gaps: the arrivals of many independent clients.</summary>
    Poisson,

    /// <summary>Equal gaps.</summary>
    Constant,
}

/// <summary>What <c>turbine bench</c> measures and how.</summary>
internal sealed record BenchSettings
{
    public required string Model { get; init; }

    public string? Version { get; init; }

    /// <summary>rest-json, rest-binary or grpc: the label in reports.</summary>
    public required string Protocol { get; init; }

    /// <summary>Closed loop: this many callers, each sending its next request when the last is answered.</summary>
    public IReadOnlyList<int> Concurrency { get; init; } = [];

    /// <summary>Open loop: requests per second offered regardless of answers. Takes precedence over concurrency.</summary>
    public IReadOnlyList<double> Rates { get; init; } = [];

    public Arrivals Arrivals { get; init; } = Arrivals.Poisson;

    public TimeSpan Window { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan WarmUp { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Windows measured at most per step when the rate does not settle.</summary>
    public int MaxWindows { get; init; } = 10;

    /// <summary>Three consecutive windows are stable when their throughputs lie within this fraction of each other.</summary>
    public double Stability { get; init; } = 0.10;

    public bool OpenLoop => Rates.Count > 0;
}
